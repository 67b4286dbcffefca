import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import type { DagsSyncJson } from '../../cli/results.ts';

export default class DagsSync extends KoalaCommand {
  static override summary = "Publish the project's DAG folder (airflow.dagsDir, default dags/) to Airflow.";
  static override description =
    'First, for each Spark app with a DAG (dags/<app>.py, written by `koala new spark-app`), the app is ' +
    'built and pushed when it changed and dags/<app>.sparkapplication.yaml is written as `koala run` ' +
    'renders it. Then koala packs the folder into a ConfigMap; a sidecar in the Airflow pods swaps it ' +
    'in atomically. No git hosting, no token, no restart. `koala up` publishes the folder as it is.';
  static override examples = ['<%= config.bin %> dags sync'];
  static override flags = { ...clusterFlags };

  async run(): Promise<void> {
    const { flags } = await this.parse(DagsSync);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const { syncDags } = await import('../../components/airflow/index.ts');
    const { dagsDirectory } = await import('../../components/airflow/dags.ts');
    const { renderAppDags } = await import('../../jobs/app-dags.ts');
    const ctx = existingClusterContext(loaded);
    const apps = await renderAppDags(ctx, dagsDirectory(loaded.config), {
      signal: this.signal,
      ...(flags.verbose ? { onBuildLine: (line: string) => process.stderr.write(`  ${line}\n`) } : {}),
    });
    const detail = await syncDags(ctx);
    if (this.mode === 'json') return this.printJson<DagsSyncJson>({ ok: true, detail, apps });
    for (const a of apps)
      this.log(`${a.file}: ${a.changed ? 'written' : 'unchanged'} (${a.image}${a.built ? ', built' : ''})`);
    this.log(detail);
  }
}
