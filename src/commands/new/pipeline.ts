import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import type { NewPipelineJson } from '../../cli/results.ts';

export default class NewPipeline extends KoalaCommand {
  static override summary = 'Scaffold a pipeline: pipelines/<name>.yaml, a batch pipeline (or --stream).';
  static override description =
    'A batch pipeline has a container step and, when the project has a Spark app, a step that runs it; ' +
    '--schedule gives it a cron schedule. A stream pipeline has one long-running micro-service.';
  static override examples = [
    '<%= config.bin %> new pipeline nightly --schedule "0 2 * * *"',
    '<%= config.bin %> new pipeline ingest --stream',
  ];
  static override args = {
    name: Args.string({ description: 'Pipeline name: lowercase letters, digits and "-".', required: true }),
  };
  static override flags = {
    stream: Flags.boolean({ description: 'A stream pipeline: long-running micro-services.' }),
    schedule: Flags.string({ description: 'A cron schedule for a batch pipeline.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(NewPipeline);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config);
    const { scaffoldPipeline } = await import('../../pipelines/scaffold.ts');
    const result = await scaffoldPipeline(loaded.config.projectDir, {
      name: args.name,
      kind: flags.stream ? 'stream' : 'batch',
      ...(flags.schedule !== undefined ? { schedule: flags.schedule } : {}),
    });
    if (this.mode === 'json') return this.printJson<NewPipelineJson>({ ok: true, ...result });
    this.log(`Created ${result.file}.`);
    this.log(`\nNext: \`koala pipelines deploy ${result.file}\`.`);
  }
}
