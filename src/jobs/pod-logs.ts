import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { streamPodLog } from '../kube/logs.ts';
import { sleep } from '../kube/watch.ts';

export const DRIVER_CONTAINER = 'spark-kubernetes-driver';
export const EXECUTOR_CONTAINER = 'spark-kubernetes-executor';

export interface LogLine {
  pod: string;
  line: string;
  /** Which incarnation of the pod: a new UID or a container restart starts a new one. */
  attempt: number;
}

/**
 * Follows the log of "the" pod of a role (the driver, or executor N) across its lifetime: when
 * the pod is replaced (the operator resubmits: same name, new UID) or its container restarts,
 * the new incarnation's log is streamed too. Feed it every pod event; it opens at most one
 * stream per incarnation and, when a stream drops while the container still runs, resumes it
 * after the last line it printed.
 */
export class PodLogFollower {
  private readonly kube: Kube;
  private readonly onLine: (line: LogLine) => void;
  private readonly signal: AbortSignal;
  private readonly follow: boolean;
  private readonly tailLines: number | undefined;
  private readonly seen = new Set<string>();
  private readonly active = new Map<string, Promise<void>>();
  /** Per open stream: how to end it once its container has stopped. */
  private readonly stoppers = new Map<string, { uid: string | undefined; stop: () => void; stopping: boolean }>();
  private attempts = 0;
  private lastPod: V1Pod | undefined;
  linesSeen = 0;

  constructor(
    kube: Kube,
    options: { onLine: (line: LogLine) => void; signal: AbortSignal; follow: boolean; tailLines?: number },
  ) {
    this.kube = kube;
    this.onLine = options.onLine;
    this.signal = options.signal;
    this.follow = options.follow;
    this.tailLines = options.tailLines;
  }

  /** Called with the pod's latest state; starts streaming a new incarnation once it has a log. */
  update(pod: V1Pod): void {
    this.lastPod = pod;
    this.endFinishedStreams(pod, false);
    const status = containerStatus(pod);
    const started =
      status?.state?.running ||
      status?.state?.terminated ||
      pod.status?.phase === 'Running' ||
      pod.status?.phase === 'Succeeded' ||
      pod.status?.phase === 'Failed';
    if (!started) return;
    const incarnation = `${pod.metadata?.uid}/${status?.restartCount ?? 0}`;
    if (this.seen.has(incarnation)) return;
    this.seen.add(incarnation);
    this.attempts += 1;
    const attempt = this.attempts;
    const own = new AbortController();
    this.stoppers.set(incarnation, { uid: pod.metadata?.uid, stop: () => own.abort(), stopping: false });
    const task = this.stream(pod, attempt, AbortSignal.any([this.signal, own.signal])).finally(() => {
      this.active.delete(incarnation);
      this.stoppers.delete(incarnation);
    });
    this.active.set(incarnation, task);
    // A pod seen already finished: its stream ends once the log is read.
    this.endFinishedStreams(pod, false);
  }

  /** The pod was deleted: its streams end (after a moment for the last lines). */
  removed(pod: V1Pod): void {
    this.endFinishedStreams(pod, true);
  }

  /**
   * A kubelet ends a follow stream when the container exits, but not every log server does
   * (kwok keeps following its file); so koala ends it itself, shortly after the container has
   * stopped or the pod was deleted or replaced, leaving time for the last lines to arrive.
   */
  private endFinishedStreams(pod: V1Pod, deleted: boolean): void {
    if (!this.follow) return; // without -f every stream ends by itself
    const status = containerStatus(pod);
    const finished =
      deleted ||
      status?.state?.terminated !== undefined ||
      pod.status?.phase === 'Succeeded' ||
      pod.status?.phase === 'Failed';
    for (const [incarnation, stopper] of this.stoppers) {
      const samePod = stopper.uid === pod.metadata?.uid;
      const thisRestart = incarnation === `${pod.metadata?.uid}/${status?.restartCount ?? 0}`;
      const replaced = !samePod; // one role, one pod at a time: another UID replaces it
      if (stopper.stopping) continue;
      if ((samePod && (finished || !thisRestart)) || replaced) {
        stopper.stopping = true;
        setTimeout(stopper.stop, this.follow ? 1_500 : 0).unref?.();
      }
    }
  }

  get streaming(): boolean {
    return this.active.size > 0;
  }

  /** Wait for open streams to end by themselves (the container stopped), at most `ms`. */
  async drain(ms: number): Promise<void> {
    const deadline = AbortSignal.any([this.signal, AbortSignal.timeout(ms)]);
    while (this.active.size > 0 && !deadline.aborted) {
      await Promise.race([Promise.allSettled([...this.active.values()]), sleep(100, deadline)]);
    }
  }

  private async stream(pod: V1Pod, attempt: number, signal: AbortSignal): Promise<void> {
    const namespace = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const uid = pod.metadata!.uid;
    const container = pickContainer(pod);
    let lastStamp: string | undefined;
    for (let tries = 0; !signal.aborted && tries < 20; tries++) {
      try {
        await streamPodLog(
          this.kube,
          {
            namespace,
            pod: name,
            ...(container ? { container } : {}),
            follow: this.follow,
            timestamps: true,
            ...(lastStamp
              ? { sinceTime: lastStamp.replace(/\.\d+Z$/, 'Z') }
              : this.tailLines !== undefined
                ? { tailLines: this.tailLines }
                : {}),
            signal: signal,
          },
          (raw) => {
            const { stamp, line } = splitTimestamp(raw);
            // A resumed stream starts at the second of the last line: skip what was printed.
            if (stamp && lastStamp && stamp <= lastStamp) return;
            if (stamp) lastStamp = stamp;
            this.linesSeen += 1;
            this.onLine({ pod: name, line, attempt });
          },
        );
      } catch (error) {
        // 400 while the container is still being created: wait a little and retry.
        if (signal.aborted) return;
        if ((error as { status?: number }).status === 404) return; // the pod is gone
        await sleep(300, signal);
        continue;
      }
      if (!this.follow) return;
      // The stream ended: fine if the container stopped or the pod was replaced; otherwise resume.
      const current = this.lastPod;
      const stillThisOne = current?.metadata?.uid === uid && current?.metadata?.name === name;
      const running = containerStatus(current)?.state?.running !== undefined && current?.status?.phase === 'Running';
      if (!stillThisOne || !running) return;
      await sleep(200, signal);
    }
  }
}

function containerStatus(pod: V1Pod | undefined) {
  const statuses = pod?.status?.containerStatuses ?? [];
  return statuses.find((s) => s.name === DRIVER_CONTAINER || s.name === EXECUTOR_CONTAINER) ?? statuses[0];
}

function pickContainer(pod: V1Pod): string | undefined {
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  return (
    names.find((n) => n === DRIVER_CONTAINER || n === EXECUTOR_CONTAINER) ?? (names.length > 1 ? names[0] : undefined)
  );
}

/** "2026-11-22T02:40:58.123456789Z text" → stamp + text (timestamps=true). */
export function splitTimestamp(raw: string): { stamp?: string; line: string } {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z) (.*)$/s.exec(raw);
  if (!match) return { line: raw };
  // RFC3339Nano drops trailing zeros; pad so stamps compare as strings.
  const [whole, fraction = ''] = match[1]!.slice(0, -1).split('.');
  return { stamp: `${whole}.${fraction.padEnd(9, '0')}Z`, line: match[2]! };
}
