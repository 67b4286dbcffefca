import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import { EXIT } from '../../util/errors.ts';
import type { AppsStatusJson } from '../../cli/results.ts';

export default class AppsStatus extends KoalaCommand {
  static override summary = 'Show one run: state, times, driver, Spark UI service and pods.';
  static override description = 'Exits 1 when the run FAILED, so scripts can test it.';
  static override examples = [
    '<%= config.bin %> apps status pagerank',
    '<%= config.bin %> apps status pagerank-3 --json',
  ];
  static override args = { target: Args.string({ description: 'A run, or an app (its newest run).', required: true }) };
  static override flags = { ...clusterFlags, namespace: Flags.string({ char: 'n', description: 'Job namespace.' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AppsStatus);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const { sparkPlatform } = await import('../../jobs/spark-platform.ts');
    const { resolveRun, runStatus } = await import('../../jobs/apps.ts');
    const kube = await existingClusterContext(loaded).kube();
    const status = await runStatus(
      kube,
      await resolveRun(kube, sparkPlatform(loaded.config), args.target, flags.namespace),
    );
    if (this.mode === 'json') this.printJson<AppsStatusJson>({ ok: status.state !== 'FAILED', ...status });
    else {
      const { renderRunStatus } = await import('../../ui/jobs.ts');
      this.log(renderRunStatus(status));
    }
    if (status.state === 'FAILED') this.exitWith(EXIT.failure);
  }
}
