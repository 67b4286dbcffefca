import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import type { NewTaskJson } from '../../cli/results.ts';

export default class NewTask extends KoalaCommand {
  static override summary = 'Scaffold a task: tasks/<name>/ with a manifest.json, a Dockerfile and a Python program.';
  static override description =
    'The manifest is in the datatask format `koala tasks deploy` takes: a job (a CronJob with --schedule), ' +
    'a deployment, or a service answering HTTP on its port. image-destination makes deploy build the folder.';
  static override examples = [
    '<%= config.bin %> new task gstogs',
    '<%= config.bin %> new task nightly-export --schedule "0 5 * * *"',
    '<%= config.bin %> new task hello-web --type service --port 5000',
  ];
  static override args = {
    name: Args.string({ description: 'Task name: lowercase letters, digits and "-".', required: true }),
  };
  static override flags = {
    type: Flags.string({ description: 'What it runs as.', options: ['job', 'deployment', 'service'], default: 'job' }),
    schedule: Flags.string({ description: 'A cron schedule: the job runs as a CronJob.' }),
    port: Flags.integer({ description: 'The port of a service.', min: 1, max: 65535 }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(NewTask);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config);
    const { scaffoldTask } = await import('../../tasks/scaffold.ts');
    const result = await scaffoldTask(loaded.config.projectDir, {
      name: args.name,
      type: flags.type as 'job' | 'deployment' | 'service',
      ...(flags.schedule !== undefined ? { schedule: flags.schedule } : {}),
      ...(flags.port !== undefined ? { port: flags.port } : {}),
    });
    if (this.mode === 'json') return this.printJson<NewTaskJson>({ ok: true, ...result });
    this.log(`Created ${result.dir}:`);
    for (const f of result.files) this.log(`  ${f}`);
    this.log(`\nNext: \`koala tasks deploy ${result.dir}\` builds its image and deploys it.`);
  }
}
