import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import type { DagsSyncJson } from '../../cli/results.ts';

export default class DagsSync extends KoalaCommand {
  static override summary = "Publish the project's DAG folder (airflow.dagsDir, default dags/) to Airflow.";
  static override description =
    'koala packs the folder into a ConfigMap; a sidecar in the Airflow pods swaps it in atomically. ' +
    'No git hosting, no token, no restart. `koala up` does the same.';
  static override examples = ['<%= config.bin %> dags sync'];
  static override flags = { ...clusterFlags };

  async run(): Promise<void> {
    const { flags } = await this.parse(DagsSync);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const { syncDags } = await import('../../components/airflow/index.ts');
    const detail = await syncDags(existingClusterContext(loaded));
    if (this.mode === 'json') return this.printJson<DagsSyncJson>({ ok: true, detail });
    this.log(detail);
  }
}
