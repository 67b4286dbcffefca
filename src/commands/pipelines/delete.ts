import { Args } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import { tasksNamespaceFlag } from '../../cli/tasks-flags.ts';
import type { PipelinesDeleteJson } from '../../cli/results.ts';

export default class PipelinesDelete extends KoalaCommand {
  static override summary = "Delete a pipeline: a batch one's schedule and runs, a stream one's micro-services.";
  static override examples = ['<%= config.bin %> pipelines delete nightly'];
  static override args = { pipeline: Args.string({ description: 'The pipeline name.', required: true }) };
  static override flags = {
    ...clusterFlags,
    namespace: tasksNamespaceFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PipelinesDelete);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const { deletePipeline } = await import('../../pipelines/run.ts');
    const kube = await existingClusterContext(loaded).kube();
    const deleted = await deletePipeline(kube, flags.namespace, args.pipeline);
    if (this.mode === 'json')
      return this.printJson<PipelinesDeleteJson>({ ok: true, pipeline: args.pipeline, deleted });
    this.log(`Deleted ${deleted.join(', ')}.`);
  }
}
