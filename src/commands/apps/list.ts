import { Flags } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import type { AppsListJson } from '../../cli/results.ts';

export default class AppsList extends KoalaCommand {
  static override summary = 'List Spark runs with their state, age, duration and driver pod.';
  static override examples = ['<%= config.bin %> apps list', '<%= config.bin %> apps list --app pagerank --json'];
  static override flags = {
    ...clusterFlags,
    app: Flags.string({ description: 'Only the runs of this app.' }),
    namespace: Flags.string({ char: 'n', description: 'Only this namespace (default: every job namespace).' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(AppsList);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const { sparkPlatform } = await import('../../jobs/spark-platform.ts');
    const { listAllRuns } = await import('../../jobs/apps.ts');
    const runs = await listAllRuns(await existingClusterContext(loaded).kube(), sparkPlatform(loaded.config), {
      ...(flags.app ? { app: flags.app } : {}),
      ...(flags.namespace ? { namespace: flags.namespace } : {}),
    });
    if (this.mode === 'json') return this.printJson<AppsListJson>({ ok: true, runs });
    const { renderRunTable } = await import('../../ui/jobs.ts');
    this.log(renderRunTable(runs));
  }
}
