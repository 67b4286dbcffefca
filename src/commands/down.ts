import { Flags } from '@oclif/core';
import { KoalaCommand } from '../cli/base.ts';
import { clusterFlags, clusterSelection } from '../cli/cluster-flag.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import type { DownJson } from '../cli/results.ts';

export default class Down extends KoalaCommand {
  static override summary = 'Delete the cluster and the registry koala created.';
  static override description =
    'With --context (a cluster koala did not create), it uninstalls what `koala up` installed there ' +
    'and leaves the cluster in place.';
  static override examples = ['<%= config.bin %> down', '<%= config.bin %> down --yes --keep-registry'];
  static override flags = {
    ...clusterFlags,
    yes: Flags.boolean({ char: 'y', description: 'Do not ask for confirmation (for scripts).' }),
    'keep-registry': Flags.boolean({ description: 'Keep the registry container and its images.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Down);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../orchestration/contexts.ts');
    const { downPlan } = await import('../orchestration/plans.ts');
    const { runWithProgress } = await import('../ui/progress.ts');
    const ctx = existingClusterContext(loaded);
    const plan = downPlan(ctx, { keepRegistry: flags['keep-registry'] });

    const existing = ctx.target.kind === 'existing';
    if (!flags.yes) {
      const deletes = existing
        ? `removes the platform and its data from context "${ctx.target.context}"`
        : 'deletes the cluster and its data';
      if (this.mode !== 'tty' || !process.stdin.isTTY) {
        throw new KoalaError(`\`koala down\` ${deletes}, and needs confirmation`, {
          hint: 'Add --yes to confirm from a script.',
          exitCode: EXIT.usage,
        });
      }
      const { confirm } = await import('@inquirer/prompts');
      const registry = `registry "${loaded.config.registry.name}" (unless another cluster uses it)`;
      const what = flags['keep-registry'] ? `cluster "${ctx.spec.name}"` : `cluster "${ctx.spec.name}" and ${registry}`;
      const message = existing
        ? `Uninstall koala's releases and namespaces, with their data, from context "${ctx.target.context}"? ` +
          'The cluster itself stays.'
        : `Delete ${what} and everything in them?`;
      if (!(await confirm({ message, default: false }))) {
        this.log('Nothing deleted.');
        return;
      }
    }
    const result = await runWithProgress(plan, { mode: this.mode, signal: this.signal });
    const removed = result.steps.filter((s) => s.status === 'done').map((s) => s.id);
    if (this.mode === 'json') {
      const { resultJson } = await import('../ui/summary.ts');
      this.printJson<DownJson>(resultJson(result));
    } else if (result.ok) {
      this.log(
        removed.length === 0
          ? 'Nothing to delete.'
          : `Removed: ${removed.join(', ')}. \`koala up\` creates it all again.`,
      );
      const left = result.steps
        .filter((s) => s.status === 'unchanged')
        .map((s) => `${s.id} (${s.detail ?? 'already gone'})`);
      if (left.length > 0) this.log(`Left alone: ${left.join(', ')}.`);
    } else {
      const { renderSummary } = await import('../ui/summary.ts');
      this.log(renderSummary({ headline: 'koala down did not finish; run it again to retry.', result }));
    }
    if (!result.ok) this.exitWith(result.interrupted ? EXIT.interrupted : EXIT.failure);
  }
}
