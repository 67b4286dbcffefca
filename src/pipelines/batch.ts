import type { FieldSpec } from '../config/spec.ts';
import { isPlainObject } from '../config/spec.ts';
import type { Manifest } from '../kube/client.ts';
import { cronProblem, CRON_ACCEPTED } from '../tasks/cron.ts';
import { STORAGE_CONFIGMAP, STORAGE_SECRET } from '../tasks/render.ts';
import type { ConfigProblem } from '../util/errors.ts';

/**
 * A batch pipeline: ordered steps run as one Kubernetes Job, scheduled by a CronJob.
 *
 * Each step is a container of the Job's pod: every step but the last is an init container, so
 * the kubelet runs them one after another, and the last is the pod's container. The pod's
 * restartPolicy is OnFailure, so when a step fails the kubelet runs that step again in the same
 * pod, and the steps that finished are not run again. The Job's backoffLimit bounds those
 * retries, its activeDeadlineSeconds is the pipeline's timeout, and the Jobs (with their pods)
 * are the run history, trimmed by the CronJob's history limits. A pipeline without a schedule is
 * a suspended CronJob: the template `koala pipelines run` starts a Job from.
 */

export const RUN_TRIGGER_ANNOTATION = 'cronjob.kubernetes.io/instantiate';
/** The expiry, in seconds since the epoch, on the CronJob: `run` and `deploy` read it. */
export const EXPIRE_ANNOTATION = 'koala.dev/expire';
/** Set on a pipeline's CronJob when its file has no schedule: it only runs when started. */
export const MANUAL_ANNOTATION = 'koala.dev/manual-only';
/** The first init container of a pipeline with an expiry: it ends a run that starts after it. */
export const GATE_CONTAINER = 'koala-expiry-gate';
export const HISTORY_LIMIT = 10;
/** An emptyDir every step mounts: one run's steps hand files to each other there. */
export const WORKSPACE = { volume: 'workspace', mountPath: '/workspace' };

export interface BatchStep {
  name: string;
  /** A container image; or, instead, */
  image?: string;
  /** a Spark app of the project (spark-applications/<name>), run as `koala run` runs it (spark-step.ts). */
  sparkApp?: string;
  command?: string[];
  args?: string[];
  env?: Array<{ name: string; value: string }>;
  resources?: Record<string, unknown>;
  imagePullPolicy?: string;
  workingDir?: string;
}

export interface BatchPipeline {
  kind: 'batch';
  file: string;
  name: string;
  steps: BatchStep[];
  schedule?: string;
  expire?: Date;
  maxRetryCount: number;
  /** Seconds; a run that has not succeeded by then fails. */
  timeoutSeconds?: number;
  storage: boolean;
}

// 63 - "-" - the CronJob controller's 11-character suffix leaves 52 for a Job's name; a step
// name is a container name (a DNS label).
export const stepName = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const duration = /^(?=\d)(\d+h)?(\d+m)?(\d+s)?$/;

export const BATCH_JOB_SPEC: FieldSpec = {
  type: 'object',
  fields: {
    steps: {
      type: 'list',
      minItems: 1,
      of: {
        type: 'object',
        fields: {
          name: { type: 'string', pattern: stepName, accepted: 'a DNS label: lowercase letters, digits and "-"' },
          image: { type: 'string', pattern: /^\S+$/, accepted: 'an image reference' },
          sparkApp: {
            type: 'string',
            pattern: /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/,
            accepted: 'the name of a Spark app of the project (spark-applications/<name>)',
          },
          command: { type: 'list', of: { type: 'string' } },
          args: { type: 'list', of: { type: 'string' } },
          env: {
            type: 'list',
            of: {
              type: 'object',
              fields: {
                name: {
                  type: 'string',
                  pattern: /^[A-Za-z_][A-Za-z0-9_]*$/,
                  accepted: 'an environment variable name',
                },
                value: { type: 'string' },
              },
            },
          },
          resources: {
            type: 'object',
            fields: {
              limits: { type: 'map', of: { type: 'string' } },
              requests: { type: 'map', of: { type: 'string' } },
            },
          },
          imagePullPolicy: { type: 'enum', values: ['Always', 'IfNotPresent', 'Never'] },
          workingDir: { type: 'string' },
        },
      },
    },
    // The pipeline-operator's adapters (elasticSearch input; ftp, kafka, email... outputs) are
    // images of its own platform; koala refuses them by name below.
    input: { type: 'any' },
    outputs: { type: 'any' },
  },
};

export const BATCH_STRATEGY_FIELDS: Record<string, FieldSpec> = {
  maxRetryCount: { type: 'int', min: 0, max: 20 },
  timeout: { type: 'string', pattern: duration, accepted: 'a duration such as "30s", "15m" or "1h30m"' },
};

export function durationSeconds(text: string): number {
  const part = (unit: string): number => Number(new RegExp(`(\\d+)${unit}`).exec(text)?.[1] ?? 0);
  return part('h') * 3600 + part('m') * 60 + part('s');
}

type At = (path: string[]) => { source: string; line?: number };

/** The batch part of a Pipeline file, checked; problems are added to `problems`. */
export function batchFromSpec(
  file: string,
  name: string,
  spec: Record<string, unknown>,
  at: At,
  problems: ConfigProblem[],
): Omit<BatchPipeline, 'expire'> {
  const batch = isPlainObject(spec.batchJob) ? spec.batchJob : {};
  const strategy = isPlainObject(spec.strategy) ? spec.strategy : {};
  for (const key of ['input', 'outputs'] as const)
    if (batch[key] !== undefined)
      problems.push({
        ...at(['spec', 'batchJob', key]),
        field: `spec.batchJob.${key}`,
        message: "names the pipeline-operator's adapters, whose images koala does not have",
        accepted: 'spec.batchJob.steps: [{ name, image, command, args, env }], run in order',
      });
  if (batch.steps === undefined && batch.input === undefined && batch.outputs === undefined)
    problems.push({
      ...at(['spec', 'batchJob']),
      field: 'spec.batchJob.steps',
      message: 'is required',
      accepted: 'a list of steps: [{ name, image, command, args, env }], run in order',
    });
  const steps = Array.isArray(batch.steps) ? batch.steps.filter(isPlainObject) : [];
  const seen = new Set<string>();
  for (const [i, step] of steps.entries()) {
    const where = ['spec', 'batchJob', 'steps', String(i)];
    if (typeof step.name === 'string') {
      if (seen.has(step.name) || step.name === GATE_CONTAINER)
        problems.push({
          ...at([...where, 'name']),
          field: `${where.join('.')}.name`,
          message: seen.has(step.name) ? `"${step.name}" is used twice` : `"${step.name}" is koala's own`,
          accepted: 'distinct step names',
        });
      seen.add(step.name);
    }
    if (step.name === undefined)
      problems.push({
        ...at(where),
        field: `${where.join('.')}.name`,
        message: 'is required',
        accepted: 'the step name',
      });
    if ((step.image === undefined) === (step.sparkApp === undefined))
      problems.push({
        ...at(where),
        field: `${where.join('.')}.${step.image === undefined ? 'image' : 'sparkApp'}`,
        message: step.image === undefined ? 'is required' : 'is given with image',
        accepted: 'one of image (a container) and sparkApp (a Spark app of the project)',
      });
    for (const field of ['command', 'args', 'workingDir', 'resources', 'imagePullPolicy'])
      if (step.sparkApp !== undefined && step[field] !== undefined)
        problems.push({
          ...at([...where, field]),
          field: `${where.join('.')}.${field}`,
          message: 'is not used by a Spark app step',
          accepted: "the app's own settings (spark-applications/<name>/spark-app.yaml); env is passed to its driver",
        });
  }
  const schedule = typeof strategy.cronExpression === 'string' ? strategy.cronExpression.trim() : '';
  const cron = schedule ? cronProblem(schedule) : undefined;
  if (cron)
    problems.push({
      ...at(['spec', 'strategy', 'cronExpression']),
      field: 'spec.strategy.cronExpression',
      message: cron,
      accepted: CRON_ACCEPTED,
    });
  const timeout = typeof strategy.timeout === 'string' ? durationSeconds(strategy.timeout) : undefined;
  if (timeout === 0)
    problems.push({
      ...at(['spec', 'strategy', 'timeout']),
      field: 'spec.strategy.timeout',
      message: 'is zero',
      accepted: 'a duration of at least one second, such as "30s"',
    });
  return {
    kind: 'batch',
    file,
    name,
    steps: steps.map((s) => s as unknown as BatchStep),
    ...(schedule ? { schedule } : {}),
    maxRetryCount: typeof strategy.maxRetryCount === 'number' ? strategy.maxRetryCount : 0,
    ...(timeout ? { timeoutSeconds: timeout } : {}),
    storage: spec.storage === true,
  };
}

export interface BatchRenderOptions {
  namespace: string;
  labels: Record<string, string>;
  /** The image of the expiry gate (a shell with `date`); needed only with an expiry. */
  gateImage: string;
  /** Keep the schedule off (`koala pipelines stop`, or an expired pipeline). */
  suspended: boolean;
  /** The container of each Spark app step, by step name (spark-step.ts). */
  sparkSteps?: Record<string, Record<string, unknown>>;
  /** The pod's ServiceAccount: the Spark driver's, when a step runs a Spark app. */
  serviceAccount?: string;
}

/** The pipeline's CronJob: the schedule, and the Job template every run is made from. */
export function renderBatch(pipeline: BatchPipeline, options: BatchRenderOptions): Manifest {
  const { namespace, labels } = options;
  const containers = pipeline.steps.map((step) => {
    const spark = options.sparkSteps?.[step.name];
    if (!step.sparkApp) return stepContainer(step, pipeline.storage);
    if (!spark) throw new Error(`step ${step.name}: the Spark app ${step.sparkApp} was not rendered`);
    const env = [...(step.env ?? []), ...((spark.env as unknown[] | undefined) ?? [])];
    return { ...spark, env, terminationMessagePolicy: 'FallbackToLogsOnError', volumeMounts: [workspaceMount] };
  });
  if (pipeline.expire) containers.unshift(gateContainer(pipeline.expire, options.gateImage));
  const last = containers.pop()!;
  const annotations: Record<string, string> = {
    ...(pipeline.expire ? { [EXPIRE_ANNOTATION]: String(Math.floor(pipeline.expire.getTime() / 1000)) } : {}),
    ...(pipeline.schedule ? {} : { [MANUAL_ANNOTATION]: 'true' }),
  };
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: pipeline.name, namespace, labels, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: {
      // A pipeline without a schedule never fires: it stays suspended, and runs are started by hand.
      schedule: pipeline.schedule ?? '@yearly',
      suspend: options.suspended || !pipeline.schedule,
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: HISTORY_LIMIT,
      failedJobsHistoryLimit: HISTORY_LIMIT,
      jobTemplate: {
        metadata: { labels },
        spec: {
          // The Job controller fails an OnFailure Job once its pod's restarts reach backoffLimit,
          // and a restart is counted when the next attempt starts: maxRetryCount + 1 lets every
          // retry run.
          backoffLimit: pipeline.maxRetryCount + 1,
          ...(pipeline.timeoutSeconds ? { activeDeadlineSeconds: pipeline.timeoutSeconds } : {}),
          template: {
            metadata: { labels },
            spec: {
              restartPolicy: 'OnFailure',
              ...(options.serviceAccount ? { serviceAccountName: options.serviceAccount } : {}),
              ...(containers.length > 0 ? { initContainers: containers } : {}),
              containers: [last],
              volumes: [{ name: WORKSPACE.volume, emptyDir: {} }],
            },
          },
        },
      },
    },
  };
}

const workspaceMount = { name: WORKSPACE.volume, mountPath: WORKSPACE.mountPath };

function stepContainer(step: BatchStep, storage: boolean): Record<string, unknown> {
  const env: Array<Record<string, unknown>> = [...(step.env ?? [])];
  if (storage)
    env.push({ name: 'S3_BUCKET', valueFrom: { configMapKeyRef: { name: STORAGE_CONFIGMAP, key: 'bucket' } } });
  return {
    name: step.name,
    image: step.image!,
    ...(step.command ? { command: step.command } : {}),
    ...(step.args ? { args: step.args } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(storage ? { envFrom: [{ secretRef: { name: STORAGE_SECRET } }] } : {}),
    ...(step.resources ? { resources: step.resources } : {}),
    ...(step.imagePullPolicy ? { imagePullPolicy: step.imagePullPolicy } : {}),
    ...(step.workingDir ? { workingDir: step.workingDir } : {}),
    volumeMounts: [workspaceMount],
    // The reason a step failed is its last lines of output when it wrote no termination message.
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };
}

/**
 * A CronJob has no end date, so each run checks it first: a run that starts after the expiry
 * stops here, before any step, with the reason as its termination message.
 */
function gateContainer(expire: Date, image: string): Record<string, unknown> {
  const epoch = Math.floor(expire.getTime() / 1000);
  const script =
    `if [ "$(date +%s)" -ge ${epoch} ]; then ` +
    `echo "the pipeline expired at ${expire.toISOString()}; no step ran" | tee /dev/termination-log; exit 3; fi`;
  return {
    name: GATE_CONTAINER,
    image,
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-c', script],
    resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { memory: '32Mi' } },
  };
}
