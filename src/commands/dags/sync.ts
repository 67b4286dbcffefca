import { Flags } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import type { DagsSyncJson } from '../../cli/results.ts';
import { EXIT, KoalaError } from '../../util/errors.ts';

export default class DagsSync extends KoalaCommand {
  static override summary = "Publish the project's DAG folder (airflow.dagsDir, default dags/) to Airflow.";
  static override description =
    'First, for each Spark app with a DAG (dags/<app>.py, written by `koala new spark-app`), the app is ' +
    'built and pushed when it changed and dags/<app>.sparkapplication.yaml is written as `koala run` ' +
    'renders it. Then koala packs the folder into a ConfigMap; a sidecar in the Airflow pods swaps it ' +
    'in atomically. No git hosting, no token, no restart. `koala up` publishes the folder as it is.\n\n' +
    "Then koala waits until Airflow's dag-processor has parsed every DAG file and reports each file's " +
    'DAGs, or the error it failed to import with; any import error makes the exit code 1.';
  static override examples = ['<%= config.bin %> dags sync', '<%= config.bin %> dags sync --no-wait'];
  static override flags = {
    ...clusterFlags,
    wait: Flags.boolean({
      default: true,
      allowNo: true,
      description: "Wait for Airflow's parse of the DAG files and report import errors (--no-wait: publish only).",
    }),
    timeout: Flags.integer({ default: 180, min: 1, description: 'Seconds to wait for the parse.' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(DagsSync);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const { publishDags } = await import('../../components/airflow/index.ts');
    const { checkDagParse, errorLine, IMPORT_ERROR_HINT } = await import('../../components/airflow/parse.ts');
    const { dagsDirectory } = await import('../../components/airflow/dags.ts');
    const { renderAppDags } = await import('../../jobs/app-dags.ts');
    const ctx = existingClusterContext(loaded);
    const dagsDir = loaded.config.airflow.dagsDir;
    const apps = await renderAppDags(ctx, dagsDirectory(loaded.config), {
      signal: this.signal,
      ...(flags.verbose ? { onBuildLine: (line: string) => process.stderr.write(`  ${line}\n`) } : {}),
    });
    const published = await publishDags(ctx);
    if (this.mode !== 'json') {
      for (const a of apps)
        this.log(`${a.file}: ${a.changed ? 'written' : 'unchanged'} (${a.image}${a.built ? ', built' : ''})`);
      this.log(published.detail);
    }
    if (!flags.wait) {
      if (this.mode === 'json') this.printJson<DagsSyncJson>({ ok: true, detail: published.detail, apps });
      return;
    }
    let waited = false;
    const { report, notChecked } = await checkDagParse(await ctx.kube(), loaded.config.namespaces.airflow, published, {
      timeoutMs: flags.timeout * 1000,
      signal: this.signal,
      onWait: (pending) => {
        if (!waited && this.mode !== 'json') this.log(`waiting for Airflow to parse ${pending.join(', ')}`);
        waited = true;
      },
    });
    const failed = report?.files.filter((f) => f.error) ?? [];
    if (this.mode === 'json') {
      this.printJson<DagsSyncJson>({
        ok: failed.length === 0,
        detail: published.detail,
        apps,
        ...(report ? { parse: report } : {}),
        ...(notChecked ? { notChecked } : {}),
      });
    } else {
      for (const f of report?.files ?? []) {
        const where = `${dagsDir}/${f.file}`;
        if (f.error) {
          this.log(`${where}: import error: ${errorLine(f.error)}`);
          for (const line of f.error.trimEnd().split('\n').slice(-12)) this.log(`    ${line}`);
        } else this.log(`${where}: ${f.dags.length > 0 ? `DAGs ${f.dags.join(', ')}` : 'no DAG'}`);
      }
      for (const file of report?.pending ?? [])
        this.log(`${dagsDir}/${file}: not parsed by Airflow within ${flags.timeout}s (or it defines no DAG)`);
      if (notChecked) this.log(`Airflow's parse was not checked: ${notChecked}`);
    }
    if (failed.length === 0) return;
    if (this.mode === 'json') this.exitWith(EXIT.failure);
    throw new KoalaError(
      `${failed.length} DAG file${failed.length === 1 ? '' : 's'} failed to import in Airflow: ` +
        failed.map((f) => `${dagsDir}/${f.file}`).join(', '),
      { hint: IMPORT_ERROR_HINT },
    );
  }
}
