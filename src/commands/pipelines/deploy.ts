import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import { tasksNamespaceFlag } from '../../cli/tasks-flags.ts';
import type { PipelinesDeployJson } from '../../cli/results.ts';

export default class PipelinesDeploy extends KoalaCommand {
  static override summary =
    'Deploy a pipeline: a stream pipeline runs its micro-services, a batch pipeline gets its schedule.';
  static override description =
    'FILE is a Pipeline. spec.streamJob.microServices: a Deployment (and Service) per micro-service, started ' +
    'and stopped by scaling. spec.batchJob.steps: ordered steps run as one Job per run, on the CronJob of ' +
    'spec.strategy.cronExpression, with maxRetryCount, timeout and expire. A second deploy of an unchanged ' +
    'file writes nothing; a stopped pipeline stays stopped until `koala pipelines start`.';
  static override examples = [
    '<%= config.bin %> pipelines deploy pipelines/ingest.yaml',
    '<%= config.bin %> pipelines deploy pipelines/nightly.yaml --dry-run',
  ];
  static override args = { file: Args.string({ description: 'The pipeline file (YAML).', required: true }) };
  static override flags = {
    ...clusterFlags,
    namespace: tasksNamespaceFlag,
    'dry-run': Flags.boolean({ description: 'Print the objects, apply nothing.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(PipelinesDeploy);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const path = await import('node:path');
    const { deployPipeline } = await import('../../pipelines/deploy.ts');
    const result = await deployPipeline(loaded, {
      file: path.resolve(args.file),
      namespace: flags.namespace,
      dryRun: flags['dry-run'] ?? false,
      signal: this.signal,
    });
    if (this.mode === 'json') return this.printJson<PipelinesDeployJson>({ ok: true, ...result });
    if (result.dryRun) {
      const { dump } = await import('js-yaml');
      this.log(result.manifests.map((m) => dump(m, { noRefs: true, lineWidth: 120 })).join('---\n'));
      return;
    }
    const { table } = await import('../../ui/table.ts');
    this.log(
      table(
        ['OBJECT', 'RESULT'],
        result.objects.map((o) => [`${o.kind.toLowerCase()}/${o.name}`, o.action]),
      ),
    );
    const ns = `-n ${result.namespace}`;
    this.log(
      result.kind === 'batch'
        ? `\nNext: \`koala pipelines run ${result.pipeline} ${ns}\` starts a run; ` +
            `\`koala pipelines history ${result.pipeline} ${ns}\` lists them.`
        : `\nNext: \`koala pipelines status ${result.pipeline} ${ns}\` shows its pods.`,
    );
  }
}
