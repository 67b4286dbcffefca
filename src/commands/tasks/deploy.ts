import { Args, Flags } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import { tasksNamespaceFlag } from '../../cli/tasks-flags.ts';
import type { TasksDeployJson } from '../../cli/results.ts';

export default class TasksDeploy extends KoalaCommand {
  static override summary = 'Deploy datatask manifests (manifest.json): Jobs, CronJobs, Deployments and Services.';
  static override description =
    'PATH is a task folder (with a manifest.json) or a folder of them. Every manifest is checked before ' +
    'anything changes; image-destination builds the folder beside the manifest and pushes it to the ' +
    "cluster's registry; an unchanged task changes nothing, a changed Job is replaced.";
  static override examples = [
    '<%= config.bin %> tasks deploy tasks/gstogs',
    '<%= config.bin %> tasks deploy tasks --dry-run',
    '<%= config.bin %> tasks deploy . --namespace etl --json',
  ];
  static override args = {
    path: Args.string({ description: 'A task folder, or a folder of task folders.', default: '.' }),
  };
  static override flags = {
    ...clusterFlags,
    namespace: tasksNamespaceFlag,
    'dry-run': Flags.boolean({ description: 'Print the objects, build and apply nothing.' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TasksDeploy);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const path = await import('node:path');
    const { deployTasks } = await import('../../tasks/run.ts');
    const result = await deployTasks(loaded, {
      root: path.resolve(args.path),
      namespace: flags.namespace,
      dryRun: flags['dry-run'] ?? false,
      signal: this.signal,
      ...(flags.verbose ? { onLine: (l: string) => process.stderr.write(`  ${l}\n`) } : {}),
    });
    if (this.mode === 'json') return this.printJson<TasksDeployJson>({ ok: true, ...result });
    const { renderTasksDeploy } = await import('../../ui/tasks.ts');
    this.log(await renderTasksDeploy(result));
  }
}
