/**
 * What each command prints on stdout with --json: one named type per document, all in this file.
 * The payloads (check outcomes, run summaries, build results…) are the core's own types, declared
 * next to the code that produces them; what a command adds is the envelope (`ok` and the payload's
 * key), so the envelopes live here, beside the commands that print them. Kept in one module, the
 * whole contract scripts rely on reads in one place, and one TypeScript program derives every
 * schema from it (test/unit/json-results.test.ts compares them with committed snapshots).
 * Type-only: nothing here runs, so the core never depends on this file.
 */
import type { CheckOutcome } from '../cluster/preflight.ts';
import type { Endpoint } from '../components/component.ts';
import type { PersonaName } from '../components/rbac/personas.ts';
import type { PersonaKubeconfig } from '../components/rbac/kubeconfig.ts';
import type { PlanDescription } from '../engine/plan.ts';
import type { RunEventLine, RunStatus, RunSummary } from '../jobs/apps.ts';
import type { BuildResult } from '../jobs/image.ts';
import type { LogLine } from '../jobs/pod-logs.ts';
import type { ScaffoldResult } from '../jobs/scaffold.ts';
import type { Manifest } from '../kube/client.ts';
import type { Credentials } from '../orchestration/credentials.ts';
import type { PlatformStatus } from '../orchestration/status.ts';
import type { BatchStatus, RunRecord } from '../pipelines/batch-run.ts';
import type { PipelineDeployResult } from '../pipelines/deploy.ts';
import type { PipelineStatus } from '../pipelines/run.ts';
import type { TaskHealth } from '../tasks/health.ts';
import type { TasksDeployResult } from '../tasks/run.ts';
import type { InitResult } from '../project/init.ts';
import type { Installed } from '../tools/install.ts';
import type { StepsJson } from '../ui/summary.ts';

/** Any command that fails, a usage error included; the exit code tells which kind of failure. */
export interface ErrorJson {
  ok: false;
  error: {
    message: string;
    /** What to do next, when koala knows. */
    hint?: string;
  };
}

/** `koala init`: every scaffold file and what was done with it. */
export interface InitJson extends InitResult {
  ok: true;
}

/** `koala up --dry-run`: the plan, executing nothing. */
export interface UpDryRunJson {
  dryRun: true;
  steps: PlanDescription;
  notes: string[];
}

/** `koala up`: every step's outcome, the cluster it made and how to reach the services. */
export interface UpRunJson extends StepsJson {
  cluster: ClusterSpecJson;
  endpoints: Endpoint[];
}

export type UpJson = UpDryRunJson | UpRunJson;

/**
 * The cluster spec (ClusterSpec) as printed, spelled out: a port mapping's service is typed as one
 * of the host-port keys the components declare, a type computed from the component list that the
 * schema generator cannot evaluate. In the document it is that key, a string. `koala up` assigns
 * its ClusterSpec here, so tsc keeps the two in step.
 */
export interface ClusterSpecJson {
  name: string;
  controlPlanes: number;
  workers: number;
  kubernetesVersion: string;
  nodeImage: string;
  portMappings: { service: string; hostPort: number; nodePort: number }[];
}

/** `koala down`: every step's outcome. */
export type DownJson = StepsJson;

/** `koala status`: `healthy` is false when anything is, and the command then exits 1. */
export type StatusJson = PlatformStatus;

/** `koala doctor`: `ok` is false when a check failed (the command then exits 1). */
export interface DoctorJson {
  ok: boolean;
  checks: CheckOutcome[];
}

/** `koala new spark-app`. */
export interface NewSparkAppJson extends ScaffoldResult {
  ok: true;
  /** The Airflow DAG written for the app (absent when dags/<name>.py already existed). */
  dag?: string;
}

/** `koala build`. */
export interface BuildJson extends BuildResult {
  ok: true;
}

/** `koala run -f <file> --dry-run`: what would be applied and submitted. */
export interface RunDryRunJson {
  ok: true;
  dryRun: true;
  manifests: Manifest[];
  notices: string[];
}

/** What `koala run` knows once the run is submitted. */
export interface RunSubmittedFields {
  run: string;
  namespace: string;
  submitMs: number;
  /** Where submitMs went: connect, preflight, image, create (ms each). */
  phases: Record<string, number>;
  build?: BuildResult;
  pruned: string[];
  /** The ConfigMaps and Secrets of the file, applied in the run's namespace. */
  applied: string[];
  /** Each thing koala did differently from what the file or app said. */
  notices: string[];
}

/** `koala run --detach`. */
export interface RunDetachedJson extends RunSubmittedFields {
  ok: true;
  state: 'SUBMITTED';
  detached: true;
}

/** `koala run` followed to the end: `ok` when the run COMPLETED. */
export interface RunFinishedJson extends RunSubmittedFields {
  ok: boolean;
  state: string;
  durationMs: number;
  errorMessage?: string;
  /** The last lines of the driver log, when the run did not complete. */
  driverLogTail?: string[];
}

export type RunJson = RunDryRunJson | RunDetachedJson | RunFinishedJson;

/** `koala logs`: the lines, in order, with the pod incarnation each came from. */
export interface LogsJson {
  ok: true;
  run: string;
  lines: LogLine[];
}

/** `koala port-forward`: printed once the forward is listening. */
export interface PortForwardJson {
  ok: true;
  target: string;
  url: string;
  localPort: number;
}

/** `koala apps list`. */
export interface AppsListJson {
  ok: true;
  runs: RunSummary[];
}

/** `koala apps status`: `ok` is false when the run FAILED (the command then exits 1). */
export interface AppsStatusJson extends RunStatus {
  ok: boolean;
}

/** `koala apps events`. */
export interface AppsEventsJson {
  ok: true;
  run: string;
  events: RunEventLine[];
}

/** `koala apps delete`: the runs deleted, as namespace/name. */
export interface AppsDeleteJson {
  ok: true;
  deleted: string[];
}

/** `koala credentials`: what users log in with, and nothing else of the platform's secrets. */
export type { GatewayAccess } from '../components/gateway/sync.ts';
import type { GatewayAccess } from '../components/gateway/sync.ts';

export interface CredentialsJson {
  ok: true;
  file: string;
  /** "file": the local 0600 file; "cluster": read back from the cluster (the file is gone). */
  source: 'file' | 'cluster';
  credentials: {
    airflow: Pick<Credentials['airflow'], 'username' | 'password'>;
    objectStore: Credentials['objectStore'];
  };
  /** The gateway's access groups, each a user of that name (made when a published task first names it). */
  gateway: GatewayAccess[];
}

/** `koala users kubeconfig`. */
export interface UsersKubeconfigJson extends PersonaKubeconfig {
  ok: true;
  persona: PersonaName;
  group: string;
}

/** `koala dags sync`. */
export interface DagsSyncJson {
  /** false when a DAG file failed to import in Airflow. */
  ok: boolean;
  detail: string;
  /** The SparkApplication written for each app's DAG (dags/<app>.sparkapplication.yaml). */
  apps: Array<{ app: string; file: string; image: string; changed: boolean; built: boolean }>;
  /** Airflow's parse of each DAG file: its DAGs, or the traceback it failed to import with. */
  parse?: { files: Array<{ file: string; dags: string[]; error?: string }>; pending: string[] };
  /** Why the parse could not be checked (no Airflow, or none ready). */
  notChecked?: string;
}

/** `koala tools install`. */
export interface ToolsInstallJson {
  ok: true;
  tools: Installed[];
}

/** `koala pipelines deploy`. */
export interface PipelinesDeployJson extends PipelineDeployResult {
  ok: true;
}

/** `koala pipelines run`: the run started and, with --wait, how it ended. */
export interface PipelinesRunJson {
  ok: boolean;
  pipeline: string;
  namespace: string;
  run: string;
  record?: RunRecord;
}

/** `koala pipelines delete`. */
export interface PipelinesDeleteJson {
  ok: true;
  pipeline: string;
  /** kind/name of each object deleted. */
  deleted: string[];
}

/** `koala pipelines history`. */
export interface PipelinesHistoryJson extends BatchStatus {
  ok: true;
}

/** `koala pipelines stop` and `start`. */
export interface PipelinesScaleJson {
  ok: true;
  pipeline: string;
  /** The Deployments scaled; empty when it was already stopped (or running). */
  changed: string[];
}

/** `koala pipelines status`: a stream pipeline's micro-services, or a batch pipeline's schedule and runs. */
export type PipelinesStatusJson =
  (PipelineStatus & { ok: true; kind: 'stream' }) | (BatchStatus & { ok: true; kind: 'batch' });

/** `koala new task`. */
export interface NewTaskJson {
  ok: true;
  dir: string;
  files: string[];
}

/** `koala new pipeline`. */
export interface NewPipelineJson {
  ok: true;
  file: string;
}

/** `koala tasks deploy`. */
export interface TasksDeployJson extends TasksDeployResult {
  ok: true;
}

/** `koala tasks list`. */
export interface TasksListJson {
  ok: true;
  namespace: string;
  tasks: TaskHealth[];
}

/** `koala tasks delete`. */
export interface TasksDeleteJson {
  ok: true;
  task: string;
  /** kind/name of each object deleted. */
  deleted: string[];
}

/**
 * Every JSON document, by command. Its keys name the schema snapshots; a command's document type
 * must be listed here for printJson to accept it.
 */
export interface JsonDocuments {
  error: ErrorJson;
  init: InitJson;
  up: UpJson;
  down: DownJson;
  status: StatusJson;
  doctor: DoctorJson;
  'new spark-app': NewSparkAppJson;
  build: BuildJson;
  run: RunJson;
  logs: LogsJson;
  'port-forward': PortForwardJson;
  'apps list': AppsListJson;
  'apps status': AppsStatusJson;
  'apps events': AppsEventsJson;
  'apps delete': AppsDeleteJson;
  credentials: CredentialsJson;
  'users kubeconfig': UsersKubeconfigJson;
  'dags sync': DagsSyncJson;
  'tools install': ToolsInstallJson;
  'new task': NewTaskJson;
  'new pipeline': NewPipelineJson;
  'tasks deploy': TasksDeployJson;
  'tasks list': TasksListJson;
  'tasks delete': TasksDeleteJson;
  'pipelines deploy': PipelinesDeployJson;
  'pipelines stop': PipelinesScaleJson;
  'pipelines start': PipelinesScaleJson;
  'pipelines status': PipelinesStatusJson;
  'pipelines run': PipelinesRunJson;
  'pipelines history': PipelinesHistoryJson;
  'pipelines delete': PipelinesDeleteJson;
}

export type JsonDocument = JsonDocuments[keyof JsonDocuments];
