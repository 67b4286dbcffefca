import { Args } from '@oclif/core';
import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import { tasksNamespaceFlag } from '../../cli/tasks-flags.ts';
import type { TasksDeleteJson } from '../../cli/results.ts';

export default class TasksDelete extends KoalaCommand {
  static override summary =
    "Delete a task's objects (its Job, CronJob, Deployment, Service and Ingress); the gateway drops its route.";
  static override examples = ['<%= config.bin %> tasks delete gstogs'];
  static override args = { task: Args.string({ description: 'The task name.', required: true }) };
  static override flags = {
    ...clusterFlags,
    namespace: tasksNamespaceFlag,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(TasksDelete);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const { deleteTask } = await import('../../tasks/health.ts');
    const kube = await existingClusterContext(loaded).kube();
    const deleted = await deleteTask(kube, flags.namespace, args.task);
    if (deleted.some((d) => d.startsWith('ingress/'))) {
      const { unpublish } = await import('../../tasks/publish.ts');
      await unpublish(kube, loaded.config);
    }
    if (this.mode === 'json') return this.printJson<TasksDeleteJson>({ ok: true, task: args.task, deleted });
    this.log(`Deleted ${deleted.join(', ')}.`);
  }
}
