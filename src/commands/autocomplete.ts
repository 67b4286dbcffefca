import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../cli/base.ts';

const TARGETS = {
  bash: '~/.local/share/bash-completion/completions/koala',
  zsh: '~/.zsh/completions/_koala',
  fish: '~/.config/fish/completions/koala.fish',
} as const;

export default class Autocomplete extends KoalaCommand {
  static override summary =
    'Print or install shell completion for bash, zsh or fish: commands, flags, app names and personas.';
  static override description =
    'Without --install the script goes to stdout: `eval "$(koala autocomplete bash)"` in ~/.bashrc loads it. ' +
    'With --install it is written where the shell looks for completions.';
  static override examples = [
    '<%= config.bin %> autocomplete bash --install',
    'eval "$(<%= config.bin %> autocomplete zsh)"',
  ];
  static override args = {
    shell: Args.string({ description: 'bash, zsh or fish (default: from $SHELL).', options: ['bash', 'zsh', 'fish'] }),
  };
  static override flags = {
    install: Flags.boolean({
      description: `Write the script to the shell's completion folder (bash: ${TARGETS.bash}).`,
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Autocomplete);
    this.setup(flags);
    const { completionScript, SHELLS } = await import('../cli/completion.ts');
    const fromEnv = (process.env.SHELL ?? '').split('/').at(-1) ?? '';
    const shell = (args.shell ?? ((SHELLS as readonly string[]).includes(fromEnv) ? fromEnv : 'bash')) as
      'bash' | 'zsh' | 'fish';
    const commands = this.config.commands
      .filter((c) => !c.hidden)
      .map((c) => {
        const first = Object.values(c.args ?? {})[0] as { name?: string; options?: string[] } | undefined;
        const arg = first?.name === 'app' ? ('apps' as const) : first?.options ? { options: first.options } : undefined;
        return { id: c.id, summary: c.summary, flags: Object.keys(c.flags ?? {}).sort(), arg };
      });
    const script = completionScript(shell, this.config.bin, commands);
    if (!flags.install) return void process.stdout.write(script);
    const { mkdir, writeFile } = await import('node:fs/promises');
    const os = await import('node:os');
    const path = await import('node:path');
    const target = TARGETS[shell].replace(/^~/, os.homedir());
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(target, script);
    this.log(`Wrote ${target}.`);
    if (shell === 'zsh') this.log(`Next: add \`source ${target}\` to ~/.zshrc, then open a new shell.`);
    else this.log('Next: open a new shell; `koala <TAB>` completes.');
  }
}
