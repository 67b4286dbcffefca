/**
 * Shell completion scripts for bash, zsh and fish, made from the command list (oclif's
 * manifest) when `koala autocomplete` runs, so a TAB starts no Node process. App names come from
 * the project's spark-applications/ folder and personas are fixed: both cost the shell nothing.
 */

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

export interface CompletionCommand {
  id: string;
  summary?: string | undefined;
  flags: string[];
  /** What the first argument completes to. */
  arg?: 'apps' | { options: string[] } | undefined;
}

/** The first word (commands and topics) and, per topic, the second. */
function tree(commands: readonly CompletionCommand[]): Map<string, string[]> {
  const words = new Map<string, string[]>([['', []]]);
  for (const c of commands) {
    const parts = c.id.split(':');
    for (let i = 0; i < parts.length; i += 1) {
      const parent = parts.slice(0, i).join(' ');
      const list = words.get(parent) ?? [];
      if (!list.includes(parts[i]!)) list.push(parts[i]!);
      words.set(parent, list);
    }
  }
  return words;
}

const APPS_BASH = `$(command ls -1 spark-applications 2>/dev/null)`;

export function bashScript(bin: string, commands: readonly CompletionCommand[]): string {
  const cases: string[] = [];
  for (const [parent, words] of tree(commands)) cases.push(`    "${parent}") words="${words.sort().join(' ')}" ;;`);
  for (const c of commands) {
    const id = c.id.replaceAll(':', ' ');
    const arg = c.arg === 'apps' ? ` ${APPS_BASH}` : c.arg ? ` ${c.arg.options.join(' ')}` : '';
    cases.push(`    "${id}") words="${c.flags.map((f) => `--${f}`).join(' ')}${arg}" ;;`);
  }
  const fn = `_${bin.replaceAll(/\W/g, '_')}_complete`;
  return `# ${bin} completion for bash: source it, or put it in ~/.local/share/bash-completion/completions/${bin}
${fn}() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" word words="" i
  # The command so far: the words before the cursor that are not flags or their values.
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ $word == -* ]] && break
    path="\${path:+$path }$word"
  done
  case "$path" in
${cases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F ${fn} ${bin}
`;
}

export function zshScript(bin: string, commands: readonly CompletionCommand[]): string {
  // zsh runs bash completion functions through bashcompinit.
  return `#compdef ${bin}
# ${bin} completion for zsh: source it from ~/.zshrc
autoload -U +X compinit && compinit
autoload -U +X bashcompinit && bashcompinit
${bashScript(bin, commands).split('\n').slice(1).join('\n')}`;
}

export function fishScript(bin: string, commands: readonly CompletionCommand[]): string {
  const quote = (s: string): string => `'${s.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
  const lines = [
    `# ${bin} completion for fish: put it in ~/.config/fish/completions/${bin}.fish`,
    `complete -c ${bin} -f`,
  ];
  const summaries = new Map(commands.map((c) => [c.id.replaceAll(':', ' '), c.summary?.split('\n')[0] ?? '']));
  for (const [parent, words] of tree(commands)) {
    const depth = parent ? parent.split(' ').length : 0;
    const cond =
      depth === 0
        ? '__fish_use_subcommand'
        : `__fish_seen_subcommand_from ${parent} && test (count (commandline -opc)) -eq ${depth + 1}`;
    for (const w of words.sort()) {
      const description = summaries.get(parent ? `${parent} ${w}` : w) ?? '';
      lines.push(`complete -c ${bin} -n ${quote(cond)} -a ${w}${description ? ` -d ${quote(description)}` : ''}`);
    }
  }
  for (const c of commands) {
    const words = c.id.split(':');
    // A command's flags and argument are offered once its last word is typed, and its topic's word if it has one.
    const cond =
      `__fish_seen_subcommand_from ${words.at(-1)}` +
      (words.length > 1 ? `; and __fish_seen_subcommand_from ${words[0]}` : '');
    for (const f of c.flags) lines.push(`complete -c ${bin} -n ${quote(cond)} -l ${f}`);
    if (c.arg === 'apps')
      lines.push(`complete -c ${bin} -n ${quote(cond)} -a '(command ls -1 spark-applications 2>/dev/null)'`);
    else if (c.arg) lines.push(`complete -c ${bin} -n ${quote(cond)} -a ${quote(c.arg.options.join(' '))}`);
  }
  return `${lines.join('\n')}\n`;
}

export function completionScript(shell: Shell, bin: string, commands: readonly CompletionCommand[]): string {
  return shell === 'bash'
    ? bashScript(bin, commands)
    : shell === 'zsh'
      ? zshScript(bin, commands)
      : fishScript(bin, commands);
}
