import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import type { SparkPlatform } from './spark-platform.ts';
import {
  LABEL_APP,
  POD_LABEL_APP_NAME,
  POD_LABEL_ROLE,
  SPARK_API_VERSION,
  SPARK_KIND,
  type SparkApplication,
} from './render.ts';
import { createdAt, isTerminal, listRuns, runNumber, stateOf } from './submit.ts';

/** One run as `koala apps` shows it. */
export interface RunSummary {
  name: string;
  namespace: string;
  app: string;
  run: number;
  state: string;
  createdAt: string;
  ageSeconds: number;
  /** Submission to termination, or to now while it runs. */
  durationSeconds: number | undefined;
  driverPod: string | undefined;
  uiService: string | undefined;
  errorMessage?: string;
  executors: Record<string, string>;
}

export function summarize(app: SparkApplication, now = Date.now()): RunSummary {
  const created = createdAt(app);
  const started = app.status?.lastSubmissionAttemptTime
    ? new Date(app.status.lastSubmissionAttemptTime).getTime()
    : undefined;
  const ended = app.status?.terminationTime ? new Date(app.status.terminationTime).getTime() : undefined;
  const state = stateOf(app);
  const errorMessage = app.status?.applicationState?.errorMessage;
  return {
    name: app.metadata.name,
    namespace: app.metadata.namespace ?? '',
    app: app.metadata.labels?.[LABEL_APP] ?? app.metadata.name,
    run: runNumber(app),
    state,
    createdAt: created ? new Date(created).toISOString() : '',
    ageSeconds: created ? Math.max(0, Math.round((now - created) / 1000)) : 0,
    durationSeconds:
      started === undefined
        ? undefined
        : Math.max(0, Math.round(((ended ?? (isTerminal(state) ? started : now)) - started) / 1000)),
    driverPod: app.status?.driverInfo?.podName,
    uiService: app.status?.driverInfo?.webUIServiceName,
    ...(errorMessage ? { errorMessage } : {}),
    executors: app.status?.executorState ?? {},
  };
}

/** All runs in the job namespaces (or one namespace), newest first. */
export async function listAllRuns(
  kube: Kube,
  platform: SparkPlatform,
  options: { namespace?: string; app?: string } = {},
): Promise<RunSummary[]> {
  const namespaces = options.namespace ? [options.namespace] : platform.jobNamespaces;
  const runs = (
    await Promise.all(
      namespaces.map((ns) => listRuns(kube, { namespace: ns, ...(options.app ? { app: options.app } : {}) })),
    )
  ).flat();
  return runs.map((r) => summarize(r)).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
}

/**
 * A name on the command line: a run ("pagerank-3") or an app ("pagerank": its newest run),
 * looked up in the given namespace or every job namespace.
 */
export async function resolveRun(
  kube: Kube,
  platform: SparkPlatform,
  nameOrApp: string,
  namespace?: string,
): Promise<SparkApplication> {
  const namespaces = namespace ? [namespace] : platform.jobNamespaces;
  for (const ns of namespaces) {
    const run = await kube.get<SparkApplication>({
      apiVersion: SPARK_API_VERSION,
      kind: SPARK_KIND,
      metadata: { name: nameOrApp, namespace: ns },
    });
    if (run) return run;
  }
  const newest = (await Promise.all(namespaces.map((ns) => listRuns(kube, { namespace: ns, app: nameOrApp }))))
    .flat()
    .sort((a, b) => createdAt(b) - createdAt(a))[0];
  if (newest) return newest;
  throw new KoalaError(`No run or app named "${nameOrApp}" in ${namespaces.join(', ')}`, {
    exitCode: EXIT.usage,
    hint: '`koala apps list` shows every run; `koala run <app>` starts one.',
  });
}

export interface RunStatus extends RunSummary {
  pods: Array<{ name: string; role: string; phase: string; node: string | undefined; restarts: number }>;
}

export async function runStatus(kube: Kube, run: SparkApplication): Promise<RunStatus> {
  const pods = await kube.list<V1Pod>('v1', 'Pod', {
    namespace: run.metadata.namespace!,
    labelSelector: `${POD_LABEL_APP_NAME}=${run.metadata.name}`,
  });
  return {
    ...summarize(run),
    pods: pods.map((p) => ({
      name: p.metadata?.name ?? '',
      role: p.metadata?.labels?.[POD_LABEL_ROLE] ?? '',
      phase: p.status?.phase ?? 'Pending',
      node: p.spec?.nodeName,
      restarts: (p.status?.containerStatuses ?? []).reduce((n, c) => n + (c.restartCount ?? 0), 0),
    })),
  };
}

export interface RunEventLine {
  time: string;
  type: string;
  reason: string;
  object: string;
  message: string;
}

/** Events of the run and of its pods, oldest first (what the operator and the kubelet said). */
export async function runEvents(kube: Kube, run: SparkApplication): Promise<RunEventLine[]> {
  const namespace = run.metadata.namespace!;
  const events = await kube.list<CoreV1Event>('v1', 'Event', { namespace });
  const pods = new Set(
    (
      await kube.list<V1Pod>('v1', 'Pod', { namespace, labelSelector: `${POD_LABEL_APP_NAME}=${run.metadata.name}` })
    ).map((p) => p.metadata?.name),
  );
  return events
    .filter(
      (e) =>
        (e.involvedObject.kind === SPARK_KIND && e.involvedObject.name === run.metadata.name) ||
        (e.involvedObject.kind === 'Pod' && pods.has(e.involvedObject.name)),
    )
    .map((e) => ({
      time: new Date(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? 0).toISOString(),
      type: e.type ?? '',
      reason: e.reason ?? '',
      object: `${e.involvedObject.kind}/${e.involvedObject.name}`,
      message: e.message ?? '',
    }))
    .sort((a, b) => a.time.localeCompare(b.time));
}

/** Delete a run, or every run of an app. Returns the names deleted. */
export async function deleteRuns(
  kube: Kube,
  platform: SparkPlatform,
  nameOrApp: string,
  options: { namespace?: string; allRuns?: boolean } = {},
): Promise<string[]> {
  const namespaces = options.namespace ? [options.namespace] : platform.jobNamespaces;
  const byApp = (await Promise.all(namespaces.map((ns) => listRuns(kube, { namespace: ns, app: nameOrApp })))).flat();
  const targets =
    byApp.length > 0 && options.allRuns !== false
      ? byApp
      : [await resolveRun(kube, platform, nameOrApp, options.namespace)];
  for (const run of targets)
    await kube.delete({
      apiVersion: SPARK_API_VERSION,
      kind: SPARK_KIND,
      metadata: { name: run.metadata.name, namespace: run.metadata.namespace! },
    });
  return targets.map((r) => `${r.metadata.namespace}/${r.metadata.name}`);
}

/** Stop one run: delete its SparkApplication; the operator and the garbage collector remove its pods. */
export async function stopRun(kube: Kube, namespace: string, name: string): Promise<boolean> {
  return kube.delete({ apiVersion: SPARK_API_VERSION, kind: SPARK_KIND, metadata: { name, namespace } });
}
