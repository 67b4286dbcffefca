import { Args } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import { tasksNamespaceFlag } from '../../cli/tasks-flags.ts';
import type { PipelinesScaleJson } from '../../cli/results.ts';

export default class PipelinesStart extends KoalaCommand {
  static override summary =
    'Start a stopped pipeline: a stream one back to the replicas its file declares, a batch one back on its schedule.';
  static override examples = ['<%= config.bin %> pipelines start ingest'];
  static override args = { pipeline: Args.string({ description: 'The pipeline name.', required: true }) };
  static override flags = {
    ...clusterFlags,
    namespace: tasksNamespaceFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PipelinesStart);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { startStream } = await import('../../pipelines/run.ts');
    const { isBatchPipeline, setBatchSchedule } = await import('../../pipelines/batch-run.ts');
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const kube = await existingClusterContext(loaded).kube();
    const batch = await isBatchPipeline(kube, flags.namespace, args.pipeline);
    const changed = batch
      ? (await setBatchSchedule(kube, flags.namespace, args.pipeline, true))
        ? [args.pipeline]
        : []
      : await startStream(kube, flags.namespace, args.pipeline);
    if (this.mode === 'json') return this.printJson<PipelinesScaleJson>({ ok: true, pipeline: args.pipeline, changed });
    this.log(
      changed.length === 0
        ? `Pipeline ${args.pipeline} was already running; nothing changed.`
        : batch
          ? `The schedule of ${args.pipeline} is on again. \`koala pipelines status ${args.pipeline}\` shows its runs.`
          : `Started ${changed.join(', ')}. \`koala pipelines status ${args.pipeline}\` shows its pods.`,
    );
  }
}
