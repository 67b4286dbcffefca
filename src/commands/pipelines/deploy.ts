import { Args } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import { tasksNamespaceFlag } from '../../cli/tasks-flags.ts';
import type { PipelinesDeployJson } from '../../cli/results.ts';

export default class PipelinesDeploy extends KoalaCommand {
  static override summary = 'Deploy a stream pipeline: a Deployment (and Service) per micro-service of its file.';
  static override description =
    'FILE is a Pipeline (spec.streamJob.microServices, each a name, replicas and a pod spec). A second ' +
    'deploy of an unchanged file writes nothing; a stopped pipeline stays stopped until `koala pipelines start`.';
  static override examples = ['<%= config.bin %> pipelines deploy pipelines/ingest.yaml'];
  static override args = { file: Args.string({ description: 'The pipeline file (YAML).', required: true }) };
  static override flags = {
    ...clusterFlags,
    namespace: tasksNamespaceFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PipelinesDeploy);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const path = await import('node:path');
    const { loadStreamPipeline } = await import('../../pipelines/stream.ts');
    const { deployStream } = await import('../../pipelines/run.ts');
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const pipeline = await loadStreamPipeline(path.resolve(args.file));
    const kube = await existingClusterContext(loaded).kube();
    const objects = await deployStream(kube, pipeline, flags.namespace, this.signal);
    if (this.mode === 'json')
      return this.printJson<PipelinesDeployJson>({
        ok: true,
        pipeline: pipeline.name,
        namespace: flags.namespace,
        objects,
      });
    const { table } = await import('../../ui/table.ts');
    this.log(
      table(
        ['OBJECT', 'RESULT'],
        objects.map((o) => [`${o.kind.toLowerCase()}/${o.name}`, o.action]),
      ),
    );
    this.log(`\nNext: \`koala pipelines status ${pipeline.name} -n ${flags.namespace}\` shows its pods.`);
  }
}
