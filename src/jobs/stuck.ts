import type { CoreV1Event, V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

/**
 * Why a pod has not started, as the scheduler and the kubelet say it, and whether waiting longer
 * can help. A pod that cannot be scheduled may fit once other pods finish; a missing ConfigMap
 * may be created in a moment; an image that cannot be pulled only gets slower retries.
 */

export interface PodProblem {
  reason: string;
  message: string;
  container?: string;
}

/** Waiting reasons that are the normal way to Running. */
const STARTING = new Set(['ContainerCreating', 'PodInitializing']);
/** No retry can fix these: only a new image reference or a pullable image. */
const IMAGE = new Set(['ImagePullBackOff', 'ErrImageNeverPull', 'InvalidImageName']);
/** A ConfigMap, Secret or key the container needs is missing; it may be created meanwhile. */
const CONFIG = new Set(['CreateContainerConfigError', 'CreateContainerError']);

/** The first thing keeping a pod from running, or undefined while all is on its way. */
export function podProblem(pod: V1Pod): PodProblem | undefined {
  const statuses: V1ContainerStatus[] = [
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.containerStatuses ?? []),
  ];
  for (const status of statuses) {
    const waiting = status.state?.waiting;
    if (waiting?.reason && !STARTING.has(waiting.reason)) {
      return { reason: waiting.reason, message: waiting.message ?? '', container: status.name };
    }
  }
  const scheduled = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
  if (scheduled?.status === 'False' && scheduled.reason === 'Unschedulable') {
    return { reason: 'Unschedulable', message: scheduled.message ?? '' };
  }
  return undefined;
}

export type ProblemKind = 'image' | 'config' | 'other';

export function problemKind(problem: PodProblem): ProblemKind {
  return IMAGE.has(problem.reason) ? 'image' : CONFIG.has(problem.reason) ? 'config' : 'other';
}

/**
 * How long to keep waiting on a problem first seen at `since`: 0 means stop now, undefined
 * means wait on (the cluster may still resolve it).
 */
export function waitLeft(problem: PodProblem, since: number, now: number, configGraceMs: number): number | undefined {
  switch (problemKind(problem)) {
    case 'image':
      return 0;
    case 'config':
      return Math.max(0, since + configGraceMs - now);
    default:
      return undefined;
  }
}

/** A warning event as one line: what (the pod), why (reason) and the message. */
export interface WarningEvent {
  object: string;
  reason: string;
  message: string;
}

export function warningOf(event: CoreV1Event): WarningEvent {
  const { kind, name } = event.involvedObject;
  return { object: `${kind}/${name}`, reason: event.reason ?? '', message: (event.message ?? '').trim() };
}
