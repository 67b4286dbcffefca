import { Args } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import { tasksNamespaceFlag } from '../../cli/tasks-flags.ts';
import type { PipelinesScaleJson } from '../../cli/results.ts';

export default class PipelinesStart extends KoalaCommand {
  static override summary =
    'Start a stopped stream pipeline: every micro-service back to the replicas its file declares.';
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
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const kube = await existingClusterContext(loaded).kube();
    const changed = await startStream(kube, flags.namespace, args.pipeline);
    if (this.mode === 'json') return this.printJson<PipelinesScaleJson>({ ok: true, pipeline: args.pipeline, changed });
    this.log(
      changed.length === 0
        ? `Pipeline ${args.pipeline} was already running; nothing changed.`
        : `Started ${changed.join(', ')}. \`koala pipelines status ${args.pipeline}\` shows its pods.`,
    );
  }
}
