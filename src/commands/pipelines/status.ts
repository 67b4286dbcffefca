import { Args } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import { tasksNamespaceFlag } from '../../cli/tasks-flags.ts';
import type { PipelinesStatusJson } from '../../cli/results.ts';

export default class PipelinesStatus extends KoalaCommand {
  static override summary =
    "A pipeline's health: a stream one's micro-services and pods, a batch one's schedule and runs.";
  static override examples = ['<%= config.bin %> pipelines status ingest'];
  static override args = { pipeline: Args.string({ description: 'The pipeline name.', required: true }) };
  static override flags = {
    ...clusterFlags,
    namespace: tasksNamespaceFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PipelinesStatus);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { streamStatus } = await import('../../pipelines/run.ts');
    const { batchStatus, isBatchPipeline } = await import('../../pipelines/batch-run.ts');
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const kube = await existingClusterContext(loaded).kube();
    if (await isBatchPipeline(kube, flags.namespace, args.pipeline)) {
      const batch = await batchStatus(kube, flags.namespace, args.pipeline);
      if (this.mode === 'json') return this.printJson<PipelinesStatusJson>({ ok: true, kind: 'batch', ...batch });
      const { renderBatchStatus } = await import('../../ui/pipelines.ts');
      return this.log(renderBatchStatus(batch));
    }
    const status = await streamStatus(kube, flags.namespace, args.pipeline);
    if (this.mode === 'json') return this.printJson<PipelinesStatusJson>({ ok: true, kind: 'stream', ...status });
    const { table } = await import('../../ui/table.ts');
    this.log(
      `Pipeline ${status.name} (namespace ${status.namespace}): ` +
        (status.stopped ? 'stopped' : status.healthy ? 'running' : 'not every replica is ready'),
    );
    this.log('');
    this.log(
      table(
        ['COMPONENT', 'READY', 'POD', 'PHASE', 'NODE'],
        status.components.flatMap((c) => {
          const head = [
            c.component,
            `${c.ready}/${c.desired}${c.desired !== c.replicas ? ` (declares ${c.replicas})` : ''}`,
          ];
          if (c.pods.length === 0) return [[...head, '-', '', '']];
          return c.pods.map((p, i) => [
            ...(i === 0 ? head : ['', '']),
            p.name,
            p.ready ? `${p.phase}, ready` : p.phase,
            p.node,
          ]);
        }),
      ),
    );
    if (status.stopped) this.log(`\nStart it with \`koala pipelines start ${status.name}\`.`);
  }
}
