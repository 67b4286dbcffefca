import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { streamPodLog } from '../kube/logs.ts';
import { watchCollection } from '../kube/watch.ts';
import { DRIVER_CONTAINER, PodLogFollower, type LogLine } from './pod-logs.ts';
import { POD_LABEL_APP_NAME, POD_LABEL_ROLE, type SparkApplication } from './render.ts';
import { podProblem, waitLeft, warningOf, type PodProblem } from './stuck.ts';
import { isTerminal, sparkAppsPath, stateOf } from './submit.ts';

export type RunEvent =
  | { type: 'state'; state: string; previous: string; errorMessage?: string; at: number }
  | { type: 'driver'; pod: string; phase: string; at: number }
  | { type: 'executor'; pod: string; phase: string; change: 'added' | 'changed' | 'removed'; at: number }
  /** Why a pod is not starting (scheduler or kubelet), when that changes. */
  | ({ type: 'waiting'; pod: string; role: string; at: number } & PodProblem)
  /** A Warning event about the run or one of its pods. */
  | { type: 'warning'; object: string; reason: string; message: string; at: number }
  | ({ type: 'log' } & LogLine);

export interface FollowResult {
  state: string;
  app: SparkApplication | undefined;
  errorMessage?: string;
  /** The last lines of the driver log (what was streamed, or fetched at the end). */
  driverLogTail: string[];
  /** Set when following stopped because the driver cannot start without the user's help. */
  blocked?: PodProblem & { pod: string };
}

export interface FollowOptions {
  namespace: string;
  name: string;
  signal: AbortSignal;
  onEvent(event: RunEvent): void;
  /** Stream the driver log as soon as the driver runs (false: only states and pods). */
  logs?: boolean;
  tailLines?: number;
  /** How long a driver may fail on a missing ConfigMap or Secret before following stops (default 30s). */
  configGraceMs?: number;
}

/**
 * Follow one run to COMPLETED or FAILED with two watches, on the SparkApplication and on its
 * pods: every state change, every executor that comes or goes, and the driver log as it is
 * written. Returns the final state; an aborted signal returns the state seen so far.
 */
export async function followRun(kube: Kube, options: FollowOptions): Promise<FollowResult> {
  const stop = new AbortController();
  const signal = AbortSignal.any([options.signal, stop.signal]);
  const tailSize = options.tailLines ?? 40;
  const tail: string[] = [];
  let app: SparkApplication | undefined;
  let state = '';
  const phases = new Map<string, string>();
  const logs = new PodLogFollower(kube, {
    signal,
    follow: true,
    onLine: (line) => {
      tail.push(line.line);
      if (tail.length > tailSize) tail.shift();
      options.onEvent({ type: 'log', ...line });
    },
  });

  let finished!: () => void;
  const terminal = new Promise<void>((resolve) => (finished = resolve));
  let blocked: FollowResult['blocked'];
  const problems = new Map<string, { problem: PodProblem; since: number; timer?: NodeJS.Timeout }>();
  const warned = new Set<string>();
  const podNames = new Set<string>();
  const graceMs = options.configGraceMs ?? 30_000;

  /** Report a pod's new waiting reason; stop following when the driver's cannot resolve. */
  const checkProblem = (pod: V1Pod, role: string | undefined, removed: boolean): void => {
    const key = pod.metadata?.uid ?? pod.metadata?.name ?? '';
    const problem = removed ? undefined : podProblem(pod);
    const known = problems.get(key);
    if (known && (!problem || known.problem.reason !== problem.reason)) {
      clearTimeout(known.timer);
      problems.delete(key);
    }
    if (!problem) return;
    const name = pod.metadata?.name ?? '';
    if (!known || known.problem.reason !== problem.reason || known.problem.message !== problem.message) {
      options.onEvent({ type: 'waiting', pod: name, role: role ?? 'pod', ...problem, at: performance.now() });
    }
    const entry = problems.get(key) ?? { problem, since: Date.now() };
    entry.problem = problem;
    problems.set(key, entry);
    if (role !== 'driver' || entry.timer) return;
    const left = waitLeft(problem, entry.since, Date.now(), graceMs);
    const stopNow = (): void => {
      if (problems.get(key) !== entry) return;
      blocked = { pod: name, ...entry.problem };
      finished();
    };
    if (left === 0) stopNow();
    else if (left !== undefined) entry.timer = setTimeout(stopNow, left);
  };

  const onApp = (object: SparkApplication): void => {
    app = object;
    const next = stateOf(object);
    if (next !== state) {
      const previous = state;
      state = next;
      const errorMessage = object.status?.applicationState?.errorMessage;
      options.onEvent({
        type: 'state',
        state: next,
        previous,
        ...(errorMessage ? { errorMessage } : {}),
        at: performance.now(),
      });
      if (isTerminal(next)) finished();
    }
  };

  const onPod = (pod: V1Pod, removed: boolean): void => {
    const name = pod.metadata?.name ?? '';
    const role = pod.metadata?.labels?.[POD_LABEL_ROLE];
    const phase = removed ? 'Deleted' : (pod.status?.phase ?? 'Pending');
    podNames.add(name);
    checkProblem(pod, role, removed);
    const before = phases.get(`${name}/${pod.metadata?.uid}`);
    if (removed) phases.delete(`${name}/${pod.metadata?.uid}`);
    else phases.set(`${name}/${pod.metadata?.uid}`, phase);
    if (before !== phase) {
      if (role === 'driver') options.onEvent({ type: 'driver', pod: name, phase, at: performance.now() });
      else if (role === 'executor')
        options.onEvent({
          type: 'executor',
          pod: name,
          phase,
          change: removed ? 'removed' : before === undefined ? 'added' : 'changed',
          at: performance.now(),
        });
    }
    if (role === 'driver' && options.logs !== false) {
      if (removed) logs.removed(pod);
      else logs.update(pod);
    }
  };

  const appWatch = watchCollection<SparkApplication>(kube, {
    path: sparkAppsPath(options.namespace),
    fieldSelector: `metadata.name=${options.name}`,
    signal,
    onEvent: (event) => {
      if (event.type === 'SYNCED') event.items.forEach(onApp);
      else if (event.type === 'DELETED') {
        app = event.object;
        finished();
      } else onApp(event.object);
    },
  });
  const podWatch = watchCollection<V1Pod>(kube, {
    path: `/api/v1/namespaces/${options.namespace}/pods`,
    labelSelector: `${POD_LABEL_APP_NAME}=${options.name}`,
    signal,
    onEvent: (event) => {
      if (event.type === 'SYNCED') event.items.forEach((p) => onPod(p, false));
      else onPod(event.object, event.type === 'DELETED');
    },
  });
  const onWarning = (event: CoreV1Event): void => {
    const { kind, name = '' } = event.involvedObject;
    const ourPod = kind === 'Pod' && (podNames.has(name) || name.startsWith(`${options.name}-`));
    const ours = ourPod || (kind === 'SparkApplication' && name === options.name);
    if (!ours) return;
    const warning = warningOf(event);
    // The scheduler's FailedScheduling repeats the pod's Unschedulable condition: say it once.
    const same = [...problems.values()].some((p) => p.problem.message.trim() === warning.message);
    const key = `${warning.object}|${warning.reason}|${warning.message}`;
    if (same || warned.has(key)) return;
    warned.add(key);
    options.onEvent({ type: 'warning', ...warning, at: performance.now() });
  };
  const eventWatch = watchCollection<CoreV1Event>(kube, {
    path: `/api/v1/namespaces/${options.namespace}/events`,
    fieldSelector: 'type=Warning',
    signal,
    onEvent: (event) => {
      if (event.type === 'SYNCED') event.items.forEach(onWarning);
      else if (event.type !== 'DELETED') onWarning(event.object);
    },
  });
  // Events only explain; a failing event watch (e.g. no permission to list events) is not the run's failure.
  const watches = Promise.all([appWatch, podWatch, eventWatch.catch(() => undefined)]);
  watches.catch(() => finished());

  await Promise.race([
    terminal,
    new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })),
  ]);
  // The driver has stopped: let its log stream deliver the last lines before closing.
  if (!options.signal.aborted && !blocked) await logs.drain(3_000);
  for (const p of problems.values()) clearTimeout(p.timer);
  stop.abort();
  await watches.catch((error: unknown) => {
    if (!options.signal.aborted && !isTerminal(state) && !blocked) throw error;
  });

  if (tail.length === 0 && app && !options.signal.aborted && !blocked) {
    const driverPod = app.status?.driverInfo?.podName ?? `${options.name}-driver`;
    await streamPodLog(
      kube,
      { namespace: options.namespace, pod: driverPod, container: DRIVER_CONTAINER, tailLines: tailSize },
      (line) => tail.push(line),
    ).catch(() => undefined);
  }
  const errorMessage = app?.status?.applicationState?.errorMessage;
  return {
    state: state || 'UNKNOWN',
    app,
    ...(errorMessage ? { errorMessage } : {}),
    driverLogTail: tail,
    ...(blocked ? { blocked } : {}),
  };
}
