import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { streamPodLog } from '../kube/logs.ts';
import { watchCollection } from '../kube/watch.ts';
import { DRIVER_CONTAINER, PodLogFollower, type LogLine } from './pod-logs.ts';
import { POD_LABEL_APP_NAME, POD_LABEL_ROLE, type SparkApplication } from './render.ts';
import { isTerminal, sparkAppsPath, stateOf } from './submit.ts';

export type RunEvent =
  | { type: 'state'; state: string; previous: string; errorMessage?: string; at: number }
  | { type: 'driver'; pod: string; phase: string; at: number }
  | { type: 'executor'; pod: string; phase: string; change: 'added' | 'changed' | 'removed'; at: number }
  | ({ type: 'log' } & LogLine);

export interface FollowResult {
  state: string;
  app: SparkApplication | undefined;
  errorMessage?: string;
  /** The last lines of the driver log (what was streamed, or fetched at the end). */
  driverLogTail: string[];
}

export interface FollowOptions {
  namespace: string;
  name: string;
  signal: AbortSignal;
  onEvent(event: RunEvent): void;
  /** Stream the driver log as soon as the driver runs (false: only states and pods). */
  logs?: boolean;
  tailLines?: number;
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

  const onApp = (object: SparkApplication): void => {
    app = object;
    const next = stateOf(object);
    if (next !== state) {
      const previous = state;
      state = next;
      const errorMessage = object.status?.applicationState?.errorMessage;
      options.onEvent({ type: 'state', state: next, previous, ...(errorMessage ? { errorMessage } : {}), at: performance.now() });
      if (isTerminal(next)) finished();
    }
  };

  const onPod = (pod: V1Pod, removed: boolean): void => {
    const name = pod.metadata?.name ?? '';
    const role = pod.metadata?.labels?.[POD_LABEL_ROLE];
    const phase = removed ? 'Deleted' : pod.status?.phase ?? 'Pending';
    const before = phases.get(`${name}/${pod.metadata?.uid}`);
    if (removed) phases.delete(`${name}/${pod.metadata?.uid}`);
    else phases.set(`${name}/${pod.metadata?.uid}`, phase);
    if (before !== phase) {
      if (role === 'driver') options.onEvent({ type: 'driver', pod: name, phase, at: performance.now() });
      else if (role === 'executor') options.onEvent({ type: 'executor', pod: name, phase, change: removed ? 'removed' : before === undefined ? 'added' : 'changed', at: performance.now() });
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
  const watches = Promise.all([appWatch, podWatch]);
  watches.catch(() => finished());

  await Promise.race([terminal, new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }))]);
  // The driver has stopped: let its log stream deliver the last lines before closing.
  if (!options.signal.aborted) await logs.drain(3_000);
  stop.abort();
  await watches.catch((error: unknown) => {
    if (!options.signal.aborted && !isTerminal(state)) throw error;
  });

  if (tail.length === 0 && app && !options.signal.aborted) {
    const driverPod = app.status?.driverInfo?.podName ?? `${options.name}-driver`;
    await streamPodLog(kube, { namespace: options.namespace, pod: driverPod, container: DRIVER_CONTAINER, tailLines: tailSize }, (line) => tail.push(line)).catch(() => undefined);
  }
  const errorMessage = app?.status?.applicationState?.errorMessage;
  return { state: state || 'UNKNOWN', app, ...(errorMessage ? { errorMessage } : {}), driverLogTail: tail };
}
