import type {
  KubernetesObject,
  V1CustomResourceDefinition,
  V1Deployment,
  V1Job,
  V1Pod,
  V1StatefulSet,
} from '@kubernetes/client-node';
import type { Kube } from './client.ts';
import { waitFor } from './wait.ts';

/**
 * Is it ready? Read-only checks for the workloads components install, and watch-based waits
 * (bounded, with progress) built on waitFor.
 */

/**
 * Rolled out, as `kubectl rollout status` has it: the newest template observed, as many of its
 * pods as wanted and available, and no pod of an older template left running (during a rollout the
 * available ones may still be old ones, serving the old configuration).
 */
export function deploymentReady(d: V1Deployment): boolean {
  const want = d.spec?.replicas ?? 1;
  const s = d.status ?? {};
  const observed = (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  const oldLeft = (s.replicas ?? 0) > (s.updatedReplicas ?? 0);
  return observed && !oldLeft && (s.updatedReplicas ?? 0) >= want && (s.availableReplicas ?? 0) >= want;
}

export function statefulSetReady(s: V1StatefulSet): boolean {
  const want = s.spec?.replicas ?? 1;
  const st = s.status ?? { replicas: 0 };
  const observed = (st.observedGeneration ?? 0) >= (s.metadata?.generation ?? 0);
  return observed && (st.readyReplicas ?? 0) >= want && (st.updatedReplicas ?? st.readyReplicas ?? 0) >= want;
}

export function podReady(p: V1Pod): boolean {
  return (
    p.status?.phase === 'Running' &&
    (p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false)
  );
}

export function crdEstablished(crd: V1CustomResourceDefinition): boolean {
  return crd.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
}

export interface WorkloadSet {
  namespace: string;
  labelSelector?: string;
  /** Fewer workloads than this means "not installed yet", not "ready". */
  minimum?: number;
}

export interface Readiness {
  ready: boolean;
  detail: string;
}

const name = (o: KubernetesObject): string => o.metadata?.name ?? '?';
/** The first `max` names, with "…" when there are more. */
const someOf = (names: readonly string[], max: number): string =>
  names.slice(0, max).join(', ') + (names.length > max ? ', …' : '');
/** "2/3 deployments available (waiting for web)": how many are ready, and the first three still awaited. */
function tally(items: readonly KubernetesObject[], notReady: readonly KubernetesObject[], what: string): string {
  const waiting = notReady.length ? ` (waiting for ${notReady.map(name).slice(0, 3).join(', ')})` : '';
  return `${items.length - notReady.length}/${items.length} ${what}${waiting}`;
}

/** Deployments and StatefulSets of a set, read once. */
export async function workloadsReadiness(kube: Kube, set: WorkloadSet): Promise<Readiness> {
  const opts = { namespace: set.namespace, ...(set.labelSelector ? { labelSelector: set.labelSelector } : {}) };
  const [deployments, statefulSets] = await Promise.all([
    kube.list<V1Deployment>('apps/v1', 'Deployment', opts),
    kube.list<V1StatefulSet>('apps/v1', 'StatefulSet', opts),
  ]);
  return summarize(deployments, statefulSets, set.minimum ?? 1);
}

function summarize(deployments: V1Deployment[], statefulSets: V1StatefulSet[], minimum: number): Readiness {
  const total = deployments.length + statefulSets.length;
  const notReady = [
    ...deployments.filter((d) => !deploymentReady(d)).map(name),
    ...statefulSets.filter((s) => !statefulSetReady(s)).map(name),
  ];
  if (total < minimum) return { ready: false, detail: `${total} of at least ${minimum} workloads exist` };
  if (notReady.length > 0)
    return {
      ready: false,
      detail: `${total - notReady.length}/${total} workloads ready; waiting for ${someOf(notReady, 3)}`,
    };
  return { ready: true, detail: `${total}/${total} workloads ready` };
}

/** Wait, through watches, until every Deployment and StatefulSet of the set is ready. */
export async function waitForWorkloads(
  kube: Kube,
  set: WorkloadSet,
  o: { what: string; timeoutMs: number; signal?: AbortSignal; onProgress?: (line: string) => void },
): Promise<string> {
  const started = Date.now();
  const left = (): number => Math.max(1_000, o.timeoutMs - (Date.now() - started));
  const selector = set.labelSelector ? { labelSelector: set.labelSelector } : {};
  const common = {
    what: o.what,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    ...selector,
  };
  // Deployments first, then StatefulSets: each watch reports its own progress.
  const deployments = await waitFor<V1Deployment>(kube, {
    ...common,
    path: `/apis/apps/v1/namespaces/${set.namespace}/deployments`,
    timeoutMs: left(),
    until: (items) => {
      const notReady = items.filter((d) => !deploymentReady(d));
      return {
        done: notReady.length === 0,
        progress: tally(items, notReady, 'deployments available'),
      };
    },
  });
  const statefulSets = await waitFor<V1StatefulSet>(kube, {
    ...common,
    path: `/apis/apps/v1/namespaces/${set.namespace}/statefulsets`,
    timeoutMs: left(),
    until: (items) => {
      const notReady = items.filter((s) => !statefulSetReady(s));
      const enough = deployments.length + items.length >= (set.minimum ?? 1);
      return {
        done: enough && notReady.length === 0,
        progress: tally(items, notReady, 'statefulsets ready'),
      };
    },
  });
  return summarize(deployments, statefulSets, set.minimum ?? 1).detail;
}

/** CRDs that are missing or not yet Established. */
export async function crdsNotEstablished(kube: Kube, names: readonly string[]): Promise<string[]> {
  const crds = await Promise.all(
    names.map((n) =>
      kube.get<V1CustomResourceDefinition>({
        apiVersion: 'apiextensions.k8s.io/v1',
        kind: 'CustomResourceDefinition',
        metadata: { name: n },
      }),
    ),
  );
  return names.filter((_, i) => !crds[i] || !crdEstablished(crds[i]!));
}

export async function waitForCrds(
  kube: Kube,
  names: readonly string[],
  o: { timeoutMs: number; signal?: AbortSignal; onProgress?: (line: string) => void },
): Promise<void> {
  await waitFor<V1CustomResourceDefinition>(kube, {
    path: '/apis/apiextensions.k8s.io/v1/customresourcedefinitions',
    what: `the CRDs ${names.join(', ')} to be Established`,
    timeoutMs: o.timeoutMs,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    until: (items) => {
      const established = new Set(items.filter(crdEstablished).map(name));
      const missing = names.filter((n) => !established.has(n));
      return {
        done: missing.length === 0,
        progress: `${names.length - missing.length}/${names.length} CRDs Established`,
      };
    },
  });
}

export type JobOutcome = 'missing' | 'running' | 'succeeded' | 'failed';

export function jobOutcome(job: V1Job | undefined): JobOutcome {
  if (!job) return 'missing';
  const conditions = job.status?.conditions ?? [];
  if (conditions.some((c) => (c.type === 'Complete' || c.type === 'SuccessCriteriaMet') && c.status === 'True'))
    return 'succeeded';
  if (conditions.some((c) => c.type === 'Failed' && c.status === 'True')) return 'failed';
  return 'running';
}

export async function waitForJob(
  kube: Kube,
  namespace: string,
  jobName: string,
  o: { timeoutMs: number; signal?: AbortSignal; onProgress?: (line: string) => void },
): Promise<JobOutcome> {
  const [job] = await waitFor<V1Job>(kube, {
    path: `/apis/batch/v1/namespaces/${namespace}/jobs`,
    fieldSelector: `metadata.name=${jobName}`,
    what: `Job ${namespace}/${jobName} to finish`,
    timeoutMs: o.timeoutMs,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.onProgress ? { onProgress: o.onProgress } : {}),
    until: (items) => {
      const outcome = jobOutcome(items[0]);
      return { done: outcome === 'succeeded' || outcome === 'failed', progress: `job ${jobName}: ${outcome}` };
    },
  });
  return jobOutcome(job);
}

/**
 * Report pod readiness in some namespaces until `signal` aborts: what a user sees while helm
 * itself waits silently.
 */
export async function followPods(
  kube: Kube,
  namespace: string,
  signal: AbortSignal,
  report: (line: string) => void,
): Promise<void> {
  try {
    await waitFor<V1Pod>(kube, {
      path: `/api/v1/namespaces/${namespace}/pods`,
      what: `pods in ${namespace}`,
      timeoutMs: 24 * 3600_000,
      signal,
      onProgress: report,
      until: (pods) => {
        const live = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
        const waiting = live.filter((p) => !podReady(p)).map(name);
        const awaited = waiting.length ? ` (waiting for ${someOf(waiting, 2)})` : '';
        return {
          done: false,
          progress: `${live.length - waiting.length}/${live.length} pods ready in ${namespace}${awaited}`,
        };
      },
    });
  } catch {
    // Aborted when the install finished, or the watch failed: progress is a courtesy, not a result.
  }
}

/** Named workloads (each a Deployment or a StatefulSet), read once: all must exist and be ready. */
export async function namedWorkloadsReadiness(
  kube: Kube,
  namespace: string,
  names: readonly string[],
): Promise<Readiness> {
  const [deployments, statefulSets] = await Promise.all([
    kube.list<V1Deployment>('apps/v1', 'Deployment', { namespace }),
    kube.list<V1StatefulSet>('apps/v1', 'StatefulSet', { namespace }),
  ]);
  const missing: string[] = [];
  const notReady: string[] = [];
  for (const wanted of names) {
    const d = deployments.find((x) => name(x) === wanted);
    const s = statefulSets.find((x) => name(x) === wanted);
    if (!d && !s) missing.push(wanted);
    else if ((d && !deploymentReady(d)) || (s && !statefulSetReady(s))) notReady.push(wanted);
  }
  if (missing.length) return { ready: false, detail: `missing: ${missing.join(', ')}` };
  if (notReady.length) return { ready: false, detail: `not ready: ${notReady.join(', ')}` };
  return { ready: true, detail: `${names.length}/${names.length} ready` };
}
