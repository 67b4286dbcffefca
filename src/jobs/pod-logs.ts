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
  private attempts = 0;
  private lastPod: V1Pod | undefined;
  linesSeen = 0;

  constructor(kube: Kube, options: { onLine: (line: LogLine) => void; signal: AbortSignal; follow: boolean; tailLines?: number }) {
    this.kube = kube;
    this.onLine = options.onLine;
    this.signal = options.signal;
    this.follow = options.follow;
    this.tailLines = options.tailLines;
  }

  /** Called with the pod's latest state; starts streaming a new incarnation once it has a log. */
  update(pod: V1Pod): void {
    this.lastPod = pod;
    const status = containerStatus(pod);
    const started = status?.state?.running || status?.state?.terminated || pod.status?.phase === 'Running' || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    if (!started) return;
    const incarnation = `${pod.metadata?.uid}/${status?.restartCount ?? 0}`;
    if (this.seen.has(incarnation)) return;
    this.seen.add(incarnation);
    this.attempts += 1;
    const attempt = this.attempts;
    const task = this.stream(pod, attempt).finally(() => this.active.delete(incarnation));
    this.active.set(incarnation, task);
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

  private async stream(pod: V1Pod, attempt: number): Promise<void> {
    const namespace = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    const uid = pod.metadata!.uid;
    const container = pickContainer(pod);
    let lastStamp: string | undefined;
    for (let tries = 0; !this.signal.aborted && tries < 20; tries++) {
      try {
        await streamPodLog(
          this.kube,
          {
            namespace,
            pod: name,
            ...(container ? { container } : {}),
            follow: this.follow,
            timestamps: true,
            ...(lastStamp ? { sinceTime: lastStamp.replace(/\.\d+Z$/, 'Z') } : this.tailLines !== undefined ? { tailLines: this.tailLines } : {}),
            signal: this.signal,
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
        if (this.signal.aborted) return;
        if ((error as { status?: number }).status === 404) return; // the pod is gone
        await sleep(300, this.signal);
        continue;
      }
      if (!this.follow) return;
      // The stream ended: fine if the container stopped or the pod was replaced; otherwise resume.
      const current = this.lastPod;
      const stillThisOne = current?.metadata?.uid === uid && current?.metadata?.name === name;
      const running = containerStatus(current)?.state?.running !== undefined && current?.status?.phase === 'Running';
      if (!stillThisOne || !running) return;
      await sleep(200, this.signal);
    }
  }
}

function containerStatus(pod: V1Pod | undefined) {
  const statuses = pod?.status?.containerStatuses ?? [];
  return statuses.find((s) => s.name === DRIVER_CONTAINER || s.name === EXECUTOR_CONTAINER) ?? statuses[0];
}

function pickContainer(pod: V1Pod): string | undefined {
  const names = (pod.spec?.containers ?? []).map((c) => c.name);
  return names.find((n) => n === DRIVER_CONTAINER || n === EXECUTOR_CONTAINER) ?? (names.length > 1 ? names[0] : undefined);
}

/** "2026-11-22T02:40:58.123456789Z text" → stamp + text (timestamps=true). */
export function splitTimestamp(raw: string): { stamp?: string; line: string } {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z) (.*)$/s.exec(raw);
  if (!match) return { line: raw };
  // RFC3339Nano drops trailing zeros; pad so stamps compare as strings.
  const [whole, fraction = ''] = match[1]!.slice(0, -1).split('.');
  return { stamp: `${whole}.${fraction.padEnd(9, '0')}Z`, line: match[2]! };
}
