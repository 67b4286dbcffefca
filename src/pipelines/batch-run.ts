import type { V1ContainerStatus, V1CronJob, V1Job, V1Pod } from '@kubernetes/client-node';
import type { Kube, Manifest } from '../kube/client.ts';
import { mergePatch } from '../kube/patch.ts';
import { waitFor } from '../kube/wait.ts';
import { applyObject, ensureNamespace, withHash, type ObjectAction } from '../tasks/deploy.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import {
  EXPIRE_ANNOTATION,
  GATE_CONTAINER,
  MANUAL_ANNOTATION,
  renderBatch,
  RUN_TRIGGER_ANNOTATION,
  type BatchPipeline,
  type BatchRenderOptions,
} from './batch.ts';
import { PIPELINE_LABEL, refuseExpired, STOPPED_ANNOTATION } from './stream.ts';

/**
 * What `koala pipelines` does to a batch pipeline: apply its CronJob, start a run by hand (a Job
 * made from the CronJob's template, as `kubectl create job --from=cronjob/...` makes one),
 * and read the runs back: each Job is one run, its pod's containers are the steps.
 */

export type StepState = 'waiting' | 'running' | 'succeeded' | 'failed' | 'unknown';

export interface StepRecord {
  name: string;
  state: StepState;
  /** How many times the step started (1 + the kubelet's restarts of it). */
  attempts: number;
  exitCode?: number;
  /** Why the step failed now, or why its previous attempt failed (which the retry got past). */
  reason?: string;
  previousFailure?: string;
}

export interface RunRecord {
  run: string;
  trigger: 'schedule' | 'manual';
  state: 'running' | 'succeeded' | 'failed';
  start?: string;
  end?: string;
  /** The Job's failure reason: BackoffLimitExceeded (retries used up), DeadlineExceeded (timeout). */
  reason?: string;
  steps: StepRecord[];
}

export interface BatchStatus {
  name: string;
  namespace: string;
  schedule: string;
  suspended: boolean;
  expire?: string;
  expired: boolean;
  runs: RunRecord[];
}

export function pipelineLabels(name: string): Record<string, string> {
  return { [PIPELINE_LABEL]: name, 'app.kubernetes.io/managed-by': 'koala' };
}

async function cronJob(kube: Kube, namespace: string, name: string): Promise<V1CronJob | undefined> {
  return kube.get<V1CronJob>({ apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, namespace } });
}

/** The expiry recorded on a pipeline's CronJob (seconds since the epoch), as a date. */
function expireOf(cron: V1CronJob): Date | undefined {
  const expire = cron.metadata?.annotations?.[EXPIRE_ANNOTATION];
  return expire ? new Date(Number(expire) * 1000) : undefined;
}

async function requireCronJob(kube: Kube, namespace: string, name: string): Promise<V1CronJob> {
  const found = await cronJob(kube, namespace, name);
  if (!found?.metadata?.labels?.[PIPELINE_LABEL])
    throw new KoalaError(`No batch pipeline "${name}" in namespace ${namespace}`, {
      exitCode: EXIT.usage,
      hint: 'Deploy it with `koala pipelines deploy <file>`; --namespace picks another namespace.',
    });
  return found;
}

export type BatchObjectOptions = Omit<BatchRenderOptions, 'labels' | 'suspended'>;

/** The CronJob a batch pipeline file renders to, in the state the live one is in (stopped or not). */
export async function batchObject(
  kube: Kube | undefined,
  pipeline: BatchPipeline,
  options: BatchObjectOptions,
): Promise<Manifest> {
  const live = kube ? await cronJob(kube, options.namespace, pipeline.name) : undefined;
  const stopped = live?.metadata?.annotations?.[STOPPED_ANNOTATION] === 'true';
  return withHash(renderBatch(pipeline, { ...options, labels: pipelineLabels(pipeline.name), suspended: stopped }));
}

export async function deployBatch(
  kube: Kube,
  pipeline: BatchPipeline,
  options: BatchObjectOptions,
  storage: Manifest[],
  signal?: AbortSignal,
): Promise<{ objects: Array<{ kind: string; name: string; action: ObjectAction }>; cronJob: Manifest }> {
  refuseExpired(pipeline);
  const { namespace } = options;
  const object = await batchObject(kube, pipeline, options);
  await ensureNamespace(kube, namespace, { storageClient: storage.length > 0 });
  const out: Array<{ kind: string; name: string; action: ObjectAction }> = [];
  for (const o of storage.map(withHash))
    out.push({ kind: o.kind, name: o.metadata.name, action: await applyObject(kube, o, signal) });
  out.push({ kind: 'CronJob', name: pipeline.name, action: await applyObject(kube, object, signal) });
  return { objects: out, cronJob: object };
}

/** Start a run now: a Job from the CronJob's template, owned by the CronJob like a scheduled one. */
export async function startRun(kube: Kube, namespace: string, name: string, now = new Date()): Promise<string> {
  const cron = await requireCronJob(kube, namespace, name);
  refuseExpired({ name, expire: expireOf(cron) }, now);
  const running = (await runs(kube, namespace, name)).find((r) => r.state === 'running');
  if (running)
    throw new KoalaError(`Pipeline "${name}" is running already (${running.run})`, {
      exitCode: EXIT.usage,
      hint: `Follow it with \`koala pipelines history ${name}\`; a pipeline runs one run at a time.`,
    });
  const template = cron.spec!.jobTemplate;
  const run = `${name}-m${Math.floor(now.getTime() / 1000).toString(36)}`;
  await kube.apply({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: run,
      namespace,
      labels: { ...template.metadata?.labels },
      annotations: { [RUN_TRIGGER_ANNOTATION]: 'manual' },
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          name,
          uid: cron.metadata!.uid!,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: template.spec,
  } as Manifest);
  return run;
}

/** Wait for a run to end; returns its record. */
export async function waitForRun(
  kube: Kube,
  namespace: string,
  run: string,
  options: { timeoutMs: number; signal?: AbortSignal; onProgress?: (line: string) => void },
): Promise<RunRecord> {
  await waitFor<V1Job>(kube, {
    path: `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}/jobs`,
    fieldSelector: `metadata.name=${run}`,
    what: `run ${run} to end`,
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    until: (jobs) => ({ done: jobs.some((j) => jobState(j) !== 'running') }),
  });
  const record = (await runs(kube, namespace, undefined, run))[0];
  if (!record) throw new KoalaError(`Run ${run} is gone from namespace ${namespace}`);
  return record;
}

/** Every run of a pipeline (or one run), newest first. */
export async function runs(
  kube: Kube,
  namespace: string,
  name?: string,
  run?: string,
  expire?: Date,
): Promise<RunRecord[]> {
  const selector = name ? `${PIPELINE_LABEL}=${name}` : PIPELINE_LABEL;
  const [jobs, pods] = await Promise.all([
    kube.list<V1Job>('batch/v1', 'Job', { namespace, labelSelector: selector }),
    kube.list<V1Pod>('v1', 'Pod', { namespace, labelSelector: selector }),
  ]);
  return jobs
    .filter((j) => !run || j.metadata?.name === run)
    .map((job) => runRecord(job, pods, expire))
    .sort((a, b) => (b.start ?? '9').localeCompare(a.start ?? '9') || b.run.localeCompare(a.run));
}

function jobState(job: V1Job): RunRecord['state'] {
  const done = (type: string): boolean => !!job.status?.conditions?.some((c) => c.type === type && c.status === 'True');
  return done('Complete') ? 'succeeded' : done('Failed') ? 'failed' : 'running';
}

export function runRecord(job: V1Job, pods: V1Pod[], expire?: Date): RunRecord {
  const name = job.metadata?.name ?? '';
  const state = jobState(job);
  const failed = job.status?.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  // The newest pod of the Job; the Job controller removes it when the Job fails.
  const pod = pods
    .filter(
      (p) => p.metadata?.labels?.['job-name'] === name || p.metadata?.ownerReferences?.some((o) => o.name === name),
    )
    .sort((a, b) =>
      String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')),
    )[0];
  const template = job.spec?.template.spec;
  const names = [...(template?.initContainers ?? []), ...(template?.containers ?? [])].map((c) => c.name);
  const statuses = [...(pod?.status?.initContainerStatuses ?? []), ...(pod?.status?.containerStatuses ?? [])];
  const steps = names.map((step) =>
    stepRecord(
      step,
      statuses.find((s) => s.name === step),
      !!pod,
    ),
  );
  return {
    run: name,
    trigger: job.metadata?.annotations?.[RUN_TRIGGER_ANNOTATION] === 'manual' ? 'manual' : 'schedule',
    state,
    ...(job.status?.startTime ? { start: new Date(job.status.startTime).toISOString() } : {}),
    ...(job.status?.completionTime || failed?.lastTransitionTime
      ? { end: new Date((job.status?.completionTime ?? failed?.lastTransitionTime)!).toISOString() }
      : {}),
    ...(failed ? { reason: failureReason(job, failed, expire) } : {}),
    steps: steps.filter((s) => s.name !== GATE_CONTAINER || s.state === 'failed'),
  };
}

function failureReason(job: V1Job, failed: { reason?: string; message?: string }, expire?: Date): string {
  const created = job.metadata?.creationTimestamp ? new Date(job.metadata.creationTimestamp).getTime() : 0;
  // The gate's pod is gone with the failed Job; the Job's start says why it stopped.
  if (expire && created >= expire.getTime())
    return `expired: the run started after ${expire.toISOString()}, so no step ran`;
  return `${failed.reason ?? 'Failed'}: ${failed.message ?? ''}`.trim();
}

function stepRecord(name: string, status: V1ContainerStatus | undefined, podExists: boolean): StepRecord {
  if (!status) return { name, state: podExists ? 'waiting' : 'unknown', attempts: 0 };
  const attempts = (status.restartCount ?? 0) + (status.state?.waiting && !status.lastState?.terminated ? 0 : 1);
  const previous = status.lastState?.terminated;
  const previousFailure = previous
    ? `exit ${previous.exitCode}${previous.reason ? ` (${previous.reason})` : ''}${tail(previous.message)}`
    : undefined;
  const base = { name, attempts, ...(previousFailure ? { previousFailure } : {}) };
  const now = status.state?.terminated;
  if (now) {
    if (now.exitCode === 0) return { ...base, state: 'succeeded', exitCode: 0 };
    return {
      ...base,
      state: 'failed',
      exitCode: now.exitCode,
      reason: `exit ${now.exitCode}${now.reason ? ` (${now.reason})` : ''}${tail(now.message)}`,
    };
  }
  if (status.state?.running) return { ...base, state: 'running' };
  // Waiting: before its first start, or in the kubelet's back-off after a failure.
  if (previous && previous.exitCode !== 0)
    return { ...base, state: 'failed', exitCode: previous.exitCode, reason: previousFailure! };
  return { ...base, state: 'waiting' };
}

function tail(message: string | undefined): string {
  const lines = (message ?? '').trim().split('\n').filter(Boolean);
  return lines.length ? `: ${lines.slice(-3).join(' | ').slice(0, 300)}` : '';
}

export async function batchStatus(kube: Kube, namespace: string, name: string, now = new Date()): Promise<BatchStatus> {
  const cron = await requireCronJob(kube, namespace, name);
  const expireDate = expireOf(cron);
  return {
    name,
    namespace,
    schedule: cron.metadata?.annotations?.[MANUAL_ANNOTATION] ? 'none (started by hand)' : cron.spec!.schedule,
    suspended: !!cron.spec?.suspend && !cron.metadata?.annotations?.[MANUAL_ANNOTATION],
    ...(expireDate ? { expire: expireDate.toISOString() } : {}),
    expired: !!expireDate && expireDate.getTime() <= now.getTime(),
    runs: await runs(kube, namespace, name, undefined, expireDate),
  };
}

/** Is `name` a batch pipeline (a CronJob koala labelled) in the namespace? */
export async function isBatchPipeline(kube: Kube, namespace: string, name: string): Promise<boolean> {
  return !!(await cronJob(kube, namespace, name))?.metadata?.labels?.[PIPELINE_LABEL];
}

/** Stop (suspend) or start (resume) a batch pipeline's schedule; returns whether it changed. */
export async function setBatchSchedule(kube: Kube, namespace: string, name: string, on: boolean): Promise<boolean> {
  const cron = await requireCronJob(kube, namespace, name);
  const manual = !!cron.metadata?.annotations?.[MANUAL_ANNOTATION];
  if (on) refuseExpired({ name, expire: expireOf(cron) });
  const stopped = cron.metadata?.annotations?.[STOPPED_ANNOTATION] === 'true';
  if (on ? !stopped : stopped) return false;
  const body = {
    metadata: { annotations: { [STOPPED_ANNOTATION]: on ? null : 'true' } },
    spec: { suspend: on ? manual : true },
  };
  const path = `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}/cronjobs/${encodeURIComponent(name)}`;
  await mergePatch(kube, path, body, `Changing the schedule of ${name}`);
  return true;
}

/** The pod of a run and the container of a step, for `koala pipelines logs`. */
export async function stepPod(
  kube: Kube,
  namespace: string,
  name: string,
  step: string,
  run?: string,
): Promise<{ run: string; pod: string; container: string }> {
  const all = await runs(kube, namespace, name);
  const chosen = run ? all.find((r) => r.run === run) : all[0];
  if (!chosen)
    throw new KoalaError(run ? `No run ${run} of pipeline "${name}"` : `Pipeline "${name}" has not run yet`, {
      exitCode: EXIT.usage,
      hint: `\`koala pipelines history ${name}\` lists its runs; \`koala pipelines run ${name}\` starts one.`,
    });
  if (!chosen.steps.some((s) => s.name === step))
    throw new KoalaError(`Run ${chosen.run} has no step "${step}"`, {
      exitCode: EXIT.usage,
      hint: `Its steps: ${chosen.steps.map((s) => s.name).join(', ')}.`,
    });
  const pods = await kube.list<V1Pod>('v1', 'Pod', { namespace, labelSelector: `job-name=${chosen.run}` });
  const pod = pods.sort((a, b) =>
    String(b.metadata?.creationTimestamp ?? '').localeCompare(String(a.metadata?.creationTimestamp ?? '')),
  )[0];
  if (!pod)
    throw new KoalaError(`The pod of run ${chosen.run} is gone, and its logs with it`, {
      hint: 'The Job controller removes the pod of a run that used up its retries or its timeout.',
    });
  return { run: chosen.run, pod: pod.metadata!.name!, container: step };
}
