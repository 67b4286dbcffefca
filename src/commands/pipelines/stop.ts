import { Args } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import { tasksNamespaceFlag } from '../../cli/tasks-flags.ts';
import type { PipelinesScaleJson } from '../../cli/results.ts';

export default class PipelinesStop extends KoalaCommand {
  static override summary =
    'Stop a pipeline: a stream one scaled to 0, a batch one taken off its schedule (a deploy keeps it stopped).';
  static override examples = ['<%= config.bin %> pipelines stop ingest'];
  static override args = { pipeline: Args.string({ description: 'The pipeline name.', required: true }) };
  static override flags = {
    ...clusterFlags,
    namespace: tasksNamespaceFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PipelinesStop);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { stopStream } = await import('../../pipelines/run.ts');
    const { isBatchPipeline, setBatchSchedule } = await import('../../pipelines/batch-run.ts');
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const kube = await existingClusterContext(loaded).kube();
    const batch = await isBatchPipeline(kube, flags.namespace, args.pipeline);
    const changed = batch
      ? (await setBatchSchedule(kube, flags.namespace, args.pipeline, false))
        ? [args.pipeline]
        : []
      : await stopStream(kube, flags.namespace, args.pipeline);
    if (this.mode === 'json') return this.printJson<PipelinesScaleJson>({ ok: true, pipeline: args.pipeline, changed });
    this.log(
      changed.length === 0
        ? `Pipeline ${args.pipeline} was already stopped; nothing changed.`
        : batch
          ? `The schedule of ${args.pipeline} is off; a run in progress goes on. ` +
            `\`koala pipelines start ${args.pipeline}\` turns it on.`
          : `Stopped ${changed.join(', ')}. \`koala pipelines status ${args.pipeline}\` shows its pods.`,
    );
  }
}
