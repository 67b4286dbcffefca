import { Flags } from '@oclif/core';
import { KoalaCommand } from '../cli/base.ts';
import { clusterFlags, clusterSelection } from '../cli/cluster-flag.ts';
import { EXIT } from '../util/errors.ts';
import type { DoctorJson } from '../cli/results.ts';

export default class Doctor extends KoalaCommand {
  static override summary =
    'Check the prerequisites of `koala up` and say how to fix each problem. ' +
    'Changes nothing, unless asked to fetch a missing tool.';
  static override examples = ['<%= config.bin %> doctor', '<%= config.bin %> doctor --json'];
  static override flags = {
    ...clusterFlags,
    yes: Flags.boolean({
      char: 'y',
      description: 'Fetch the pinned kind, helm or kubectl without asking when one is missing or too old.',
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Doctor);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../orchestration/contexts.ts');
    const { runPreflight } = await import('../cluster/preflight.ts');
    const ctx = existingClusterContext(loaded);
    const { offerTools } = await import('../cli/tools-offer.ts');
    await offerTools(loaded.config, { yes: flags.yes, signal: this.signal, log: (l) => this.note(l) });
    // On a cluster koala did not create, the checks that matter there (src/cluster/existing.ts).
    const outcomes =
      ctx.target.kind === 'existing'
        ? await (await import('../cluster/existing.ts')).runExistingPreflight(ctx)
        : (await runPreflight({ config: loaded.config, spec: ctx.spec, platform: process.platform })).outcomes;
    const failed = outcomes.filter((o) => o.status === 'fail').length;
    if (this.mode === 'json') this.printJson<DoctorJson>({ ok: failed === 0, checks: outcomes });
    else {
      const mark = { pass: '✓', warn: '!', fail: '✗' } as const;
      for (const o of outcomes) {
        this.log(`${mark[o.status]} ${o.status.padEnd(4)}  ${o.title}: ${o.detail}`);
        if (o.fix && o.status !== 'pass') this.log(`        fix: ${o.fix}`);
      }
      this.log('');
      this.log(
        failed === 0
          ? 'Ready for `koala up`.'
          : `${failed} check(s) failed: fix them, then run \`koala doctor\` again.`,
      );
    }
    if (failed > 0) this.exitWith(EXIT.failure);
  }
}
