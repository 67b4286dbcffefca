import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { sleep, watchCollection } from '../kube/watch.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import { resolveRun } from './apps.ts';
import type { SparkPlatform } from './spark-platform.ts';
import { PodLogFollower, type LogLine } from './pod-logs.ts';
import { POD_LABEL_APP_NAME, POD_LABEL_ROLE, type SparkApplication } from './render.ts';
import { isTerminal, sparkAppsPath, stateOf } from './submit.ts';

export interface LogsRequest {
  /** A run or an app (its newest run). */
  target: string;
  namespace?: string;
  follow: boolean;
  /** Executor id (spark-exec-id); the driver when absent. */
  executor?: number;
  tailLines?: number;
  signal: AbortSignal;
  onLine(line: LogLine): void;
  /** A line about what is happening (waiting for the driver, a restart). */
  onNote?(note: string): void;
}

export function podSelector(run: string, executor?: number): string {
  return executor === undefined
    ? `${POD_LABEL_APP_NAME}=${run},${POD_LABEL_ROLE}=driver`
    : `${POD_LABEL_APP_NAME}=${run},${POD_LABEL_ROLE}=executor,spark-exec-id=${executor}`;
}

/**
 * `koala logs`: find the pod by the operator's labels (never by guessing its name: executor
 * names carry a hash), print its log, and with -f keep following: through a driver that the
 * operator resubmits or a container that restarts, until the run has finished.
 */
export async function showLogs(
  kube: Kube,
  platform: SparkPlatform,
  request: LogsRequest,
): Promise<{ run: string; lines: number }> {
  const run = await resolveRun(kube, platform, request.target, request.namespace);
  const namespace = run.metadata.namespace!;
  const name = run.metadata.name;
  const selector = podSelector(name, request.executor);
  const what = request.executor === undefined ? 'driver' : `executor ${request.executor}`;

  if (!request.follow) {
    const pods = await kube.list<V1Pod>('v1', 'Pod', { namespace, labelSelector: selector });
    const pod = pods.sort(
      (a, b) =>
        new Date(b.metadata?.creationTimestamp ?? 0).getTime() - new Date(a.metadata?.creationTimestamp ?? 0).getTime(),
    )[0];
    if (!pod) throw noPod(run, what);
    const follower = new PodLogFollower(kube, {
      onLine: request.onLine,
      signal: request.signal,
      follow: false,
      ...(request.tailLines !== undefined ? { tailLines: request.tailLines } : {}),
    });
    follower.update(pod);
    await follower.drain(60_000);
    return { run: name, lines: follower.linesSeen };
  }

  const stop = new AbortController();
  const signal = AbortSignal.any([request.signal, stop.signal]);
  const follower = new PodLogFollower(kube, {
    onLine: request.onLine,
    signal,
    follow: true,
    ...(request.tailLines !== undefined ? { tailLines: request.tailLines } : {}),
  });
  let state = stateOf(run);
  let sawPod = false;
  let podsSynced = false;
  const podUids = new Set<string>();
  if (!isTerminal(state)) request.onNote?.(`waiting for the ${what} of ${name} (${state})`);
  const pods = watchCollection<V1Pod>(kube, {
    path: `/api/v1/namespaces/${namespace}/pods`,
    labelSelector: selector,
    signal,
    onEvent: (event) => {
      if (event.type === 'SYNCED') podsSynced = true;
      if (event.type === 'DELETED') return follower.removed(event.object);
      const list = event.type === 'SYNCED' ? event.items : [event.object];
      for (const pod of list) {
        sawPod = true;
        const uid = pod.metadata?.uid ?? '';
        if (!podUids.has(uid)) {
          if (podUids.size > 0) request.onNote?.(`${pod.metadata?.name} was replaced: following the new pod`);
          podUids.add(uid);
        }
        follower.update(pod);
      }
    },
  });
  const runs = watchCollection<SparkApplication>(kube, {
    path: sparkAppsPath(namespace),
    fieldSelector: `metadata.name=${name}`,
    signal,
    onEvent: (event) => {
      if (event.type === 'SYNCED') state = event.items[0] ? stateOf(event.items[0]) : 'DELETED';
      else state = event.type === 'DELETED' ? 'DELETED' : stateOf(event.object);
    },
  });
  const watches = Promise.all([pods, runs]);
  // Done when the run has finished (or is gone) and no stream is open any more.
  while (!signal.aborted) {
    await sleep(200, signal);
    if (podsSynced && (isTerminal(state) || state === 'DELETED') && !follower.streaming) {
      await follower.drain(1_000);
      break;
    }
  }
  stop.abort();
  await watches.catch(() => undefined);
  if (!sawPod && !request.signal.aborted) throw noPod(run, what);
  return { run: name, lines: follower.linesSeen };
}

function noPod(run: SparkApplication, what: string): KoalaError {
  return new KoalaError(`Run ${run.metadata.name} has no ${what} pod (state ${stateOf(run)})`, {
    exitCode: EXIT.failure,
    hint:
      what === 'driver'
        ? '`koala apps status` shows the run and `koala apps events` why it has no driver.'
        : '`koala apps status` lists the executors that exist.',
  });
}
