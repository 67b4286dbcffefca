import { Args } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import { tasksNamespaceFlag } from '../../cli/tasks-flags.ts';
import type { PipelinesHistoryJson } from '../../cli/results.ts';

export default class PipelinesHistory extends KoalaCommand {
  static override summary =
    "A batch pipeline's runs, newest first: start, end, each step's state, attempts and failure.";
  static override description =
    'Runs are the Jobs the schedule or `koala pipelines run` made; the CronJob keeps the last 10 ' +
    'that succeeded and the last 10 that failed.';
  static override examples = ['<%= config.bin %> pipelines history nightly'];
  static override args = { pipeline: Args.string({ description: 'The pipeline name.', required: true }) };
  static override flags = {
    ...clusterFlags,
    namespace: tasksNamespaceFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PipelinesHistory);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { batchStatus } = await import('../../pipelines/batch-run.ts');
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const status = await batchStatus(await existingClusterContext(loaded).kube(), flags.namespace, args.pipeline);
    if (this.mode === 'json') return this.printJson<PipelinesHistoryJson>({ ok: true, ...status });
    const { renderHistory } = await import('../../ui/pipelines.ts');
    this.log(renderHistory(status));
  }
}
