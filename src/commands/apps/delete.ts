import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import type { AppsDeleteJson } from '../../cli/results.ts';

export default class AppsDelete extends KoalaCommand {
  static override summary = 'Delete a run (stopping it if it runs), or every run of an app.';
  static override examples = ['<%= config.bin %> apps delete pagerank-3', '<%= config.bin %> apps delete pagerank'];
  static override args = { target: Args.string({ description: 'A run, or an app (all its runs).', required: true }) };
  static override flags = { ...clusterFlags, namespace: Flags.string({ char: 'n', description: 'Job namespace.' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AppsDelete);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const { sparkPlatform } = await import('../../jobs/spark-platform.ts');
    const { deleteRuns } = await import('../../jobs/apps.ts');
    const deleted = await deleteRuns(
      await existingClusterContext(loaded).kube(),
      sparkPlatform(loaded.config),
      args.target,
      { ...(flags.namespace ? { namespace: flags.namespace } : {}) },
    );
    if (this.mode === 'json') return this.printJson<AppsDeleteJson>({ ok: true, deleted });
    this.log(`Deleted ${deleted.join(', ')}.`);
  }
}
