/**
 * Every command, for oclif's explicit discovery strategy (lets the CLI be bundled). Command
 * classes only declare flags; their work is imported inside run(), so loading this file is cheap.
 */
import Doctor from './commands/doctor.ts';
import Down from './commands/down.ts';
import Status from './commands/status.ts';
import Up from './commands/up.ts';
import AppsDelete from './commands/apps/delete.ts';
import AppsEvents from './commands/apps/events.ts';
import AppsList from './commands/apps/list.ts';
import AppsStatus from './commands/apps/status.ts';
import Build from './commands/build.ts';
import Logs from './commands/logs.ts';
import NewSparkApp from './commands/new/spark-app.ts';
import PortForward from './commands/port-forward.ts';
import Run from './commands/run.ts';
import Credentials from './commands/credentials.ts';
import DagsSync from './commands/dags/sync.ts';
import UsersKubeconfig from './commands/users/kubeconfig.ts';
import Init from './commands/init.ts';
import Autocomplete from './commands/autocomplete.ts';
import ToolsInstall from './commands/tools/install.ts';
import NewTask from './commands/new/task.ts';
import NewPipeline from './commands/new/pipeline.ts';
import PipelinesDelete from './commands/pipelines/delete.ts';
import PipelinesDeploy from './commands/pipelines/deploy.ts';
import PipelinesHistory from './commands/pipelines/history.ts';
import PipelinesLogs from './commands/pipelines/logs.ts';
import PipelinesRun from './commands/pipelines/run.ts';
import PipelinesStart from './commands/pipelines/start.ts';
import PipelinesStatus from './commands/pipelines/status.ts';
import PipelinesStop from './commands/pipelines/stop.ts';
import TasksDeploy from './commands/tasks/deploy.ts';
import TasksList from './commands/tasks/list.ts';
import TasksDelete from './commands/tasks/delete.ts';

export const COMMANDS = {
  init: Init,
  up: Up,
  down: Down,
  status: Status,
  doctor: Doctor,
  'new:spark-app': NewSparkApp,
  build: Build,
  run: Run,
  logs: Logs,
  'port-forward': PortForward,
  'apps:list': AppsList,
  'apps:status': AppsStatus,
  'apps:events': AppsEvents,
  'apps:delete': AppsDelete,
  credentials: Credentials,
  'users:kubeconfig': UsersKubeconfig,
  'dags:sync': DagsSync,
  'tools:install': ToolsInstall,
  'new:task': NewTask,
  'tasks:deploy': TasksDeploy,
  'tasks:list': TasksList,
  'tasks:delete': TasksDelete,
  'pipelines:deploy': PipelinesDeploy,
  'pipelines:stop': PipelinesStop,
  'pipelines:start': PipelinesStart,
  'pipelines:status': PipelinesStatus,
  'pipelines:run': PipelinesRun,
  'pipelines:delete': PipelinesDelete,
  'new:pipeline': NewPipeline,
  'pipelines:history': PipelinesHistory,
  'pipelines:logs': PipelinesLogs,
  autocomplete: Autocomplete,
};
