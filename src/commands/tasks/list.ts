import { KoalaCommand } from '../../cli/base.ts';
import { clusterFlags, clusterSelection } from '../../cli/cluster-flag.ts';
import { tasksNamespaceFlag } from '../../cli/tasks-flags.ts';
import type { TasksListJson } from '../../cli/results.ts';

export default class TasksList extends KoalaCommand {
  static override summary = 'List the deployed tasks with their kind and health.';
  static override examples = ['<%= config.bin %> tasks list', '<%= config.bin %> tasks list --json'];
  static override flags = {
    ...clusterFlags,
    namespace: tasksNamespaceFlag,
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(TasksList);
    this.setup(flags);
    const loaded = await this.loadConfig(flags.config, clusterSelection(flags));
    const { existingClusterContext } = await import('../../orchestration/contexts.ts');
    const { listTasks } = await import('../../tasks/health.ts');
    const { gatewayBase } = await import('../../components/gateway/declaration.ts');
    const kube = await existingClusterContext(loaded).kube();
    const tasks = await listTasks(kube, flags.namespace, gatewayBase(loaded.config));
    if (this.mode === 'json') return this.printJson<TasksListJson>({ ok: true, namespace: flags.namespace, tasks });
    const { renderTasksList } = await import('../../ui/tasks.ts');
    this.log(renderTasksList(flags.namespace, tasks));
  }
}
