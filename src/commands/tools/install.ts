import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import type { ToolsInstallJson } from '../../cli/results.ts';

export default class ToolsInstall extends KoalaCommand {
  static override summary =
    'Fetch the pinned kind, helm and kubectl into ~/.cache/koala/bin, each checked against its SHA-256.';
  static override description =
    'koala uses these copies before the ones on PATH. The sums are part of koala; ' +
    'tools.mirror in koala.yaml serves the files from elsewhere (a proxy, an internal mirror).';
  static override examples = ['<%= config.bin %> tools install', '<%= config.bin %> tools install kind helm'];
  static override strict = false;
  static override args = {
    tool: Args.string({
      description: 'kind, helm or kubectl (default: all three).',
      options: ['kind', 'helm', 'kubectl'],
    }),
  };
  static override flags = {
    dir: Flags.string({ description: 'Put the binaries here instead (e.g. /usr/local/bin in an image).' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(ToolsInstall);
    this.setup(flags);
    const { PINNED_TOOLS } = await import('../../tools/pins.ts');
    const wanted = argv.length > 0 ? (argv as string[]) : [...PINNED_TOOLS];
    const bad = wanted.filter((t) => !(PINNED_TOOLS as readonly string[]).includes(t));
    if (bad.length > 0) {
      const { KoalaError, EXIT } = await import('../../util/errors.ts');
      throw new KoalaError(`Unknown tool: ${bad.join(', ')} (accepted: ${PINNED_TOOLS.join(', ')})`, {
        exitCode: EXIT.usage,
        hint: 'Run `koala tools install --help`; nothing was changed.',
      });
    }
    const loaded = await this.loadConfig(flags.config);
    const { installWithProgress } = await import('../../cli/tools-offer.ts');
    const installed = await installWithProgress(wanted as Array<'kind' | 'helm' | 'kubectl'>, loaded.config.tools, {
      signal: this.signal,
      ...(flags.dir ? { dir: flags.dir } : {}),
    });
    if (this.mode === 'json') return this.printJson<ToolsInstallJson>({ ok: true, tools: installed });
    for (const t of installed) {
      const action = t.fetched ? 'installed' : 'present  ';
      this.log(`${action} ${t.tool} ${t.version}  ${t.path}  (sha256 ${t.sha256.slice(0, 12)}…, from ${t.url})`);
    }
    this.log('\nNext: `koala doctor` checks every prerequisite, then `koala up`.');
  }
}
