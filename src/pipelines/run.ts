import type { V1Deployment, V1Pod } from '@kubernetes/client-node';
import type { Kube, Manifest } from '../kube/client.ts';
import { mergePatch } from '../kube/patch.ts';
import { applyObject, ensureNamespace, withHash, type ObjectAction } from '../tasks/deploy.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import {
  COMPONENT_LABEL,
  PIPELINE_LABEL,
  REPLICAS_ANNOTATION,
  refuseExpired,
  renderStream,
  STOPPED_ANNOTATION,
  type StreamPipeline,
} from './stream.ts';

/**
 * What `koala pipelines` does to a stream pipeline: deploy its Deployments and Services (by
 * recorded hash, as tasks are), stop it by scaling every micro-service to 0 while remembering
 * that it is stopped, start it back to the replicas its file declares, and report its pods.
 */

export interface PipelineObject {
  kind: string;
  name: string;
  action: ObjectAction;
}

export interface ComponentStatus {
  component: string;
  deployment: string;
  /** What the file declares. */
  replicas: number;
  /** What runs now (0 while stopped). */
  desired: number;
  ready: number;
  pods: Array<{ name: string; phase: string; ready: boolean; node: string }>;
}

export interface PipelineStatus {
  name: string;
  namespace: string;
  stopped: boolean;
  /** Every micro-service has the replicas it should have now (a stopped pipeline is healthy at 0). */
  healthy: boolean;
  components: ComponentStatus[];
}

async function deployments(kube: Kube, namespace: string, name: string): Promise<V1Deployment[]> {
  const found = await kube.list<V1Deployment>('apps/v1', 'Deployment', {
    namespace,
    labelSelector: `${PIPELINE_LABEL}=${name}`,
  });
  if (found.length === 0)
    throw new KoalaError(`No pipeline "${name}" in namespace ${namespace}`, {
      exitCode: EXIT.usage,
      hint: 'Deploy it with `koala pipelines deploy <file>`; --namespace picks another namespace.',
    });
  return found.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

/** Apply a stream pipeline; a stopped one stays stopped (only `start` starts it). */
export async function deployStream(
  kube: Kube,
  pipeline: StreamPipeline,
  namespace: string,
  storage: Manifest[] = [],
  signal?: AbortSignal,
): Promise<PipelineObject[]> {
  refuseExpired(pipeline);
  await ensureNamespace(kube, namespace, { storageClient: storage.length > 0 });
  const out: PipelineObject[] = [];
  for (const object of storage.map(withHash))
    out.push({ kind: object.kind, name: object.metadata.name, action: await applyObject(kube, object, signal) });
  const live = await kube.list<V1Deployment>('apps/v1', 'Deployment', {
    namespace,
    labelSelector: `${PIPELINE_LABEL}=${pipeline.name}`,
  });
  const stopped = live.some((d) => d.metadata?.annotations?.[STOPPED_ANNOTATION] === 'true');
  const wanted = renderStream(pipeline, namespace, stopped).map(withHash);
  for (const object of wanted)
    out.push({ kind: object.kind, name: object.metadata.name, action: await applyObject(kube, object, signal) });
  // Micro-services the file no longer has.
  for (const [apiVersion, kind] of [
    ['apps/v1', 'Deployment'],
    ['v1', 'Service'],
  ] as const) {
    for (const old of await kube.list<Manifest>(apiVersion, kind, {
      namespace,
      labelSelector: `${PIPELINE_LABEL}=${pipeline.name}`,
    })) {
      if (wanted.some((w) => w.kind === kind && w.metadata.name === old.metadata.name)) continue;
      await kube.delete({ apiVersion, kind, metadata: { name: old.metadata.name, namespace } });
      out.push({ kind, name: old.metadata.name, action: 'deleted' });
    }
  }
  return out;
}

/** Scale every micro-service to 0 and mark the pipeline stopped. */
export async function stopStream(kube: Kube, namespace: string, name: string): Promise<string[]> {
  const changed: string[] = [];
  for (const d of await deployments(kube, namespace, name)) {
    if (d.metadata?.annotations?.[STOPPED_ANNOTATION] === 'true' && d.spec?.replicas === 0) continue;
    await scale(kube, d, { metadata: { annotations: { [STOPPED_ANNOTATION]: 'true' } }, spec: { replicas: 0 } });
    changed.push(d.metadata!.name!);
  }
  return changed;
}

/** Scale every micro-service back to the replicas its file declares. */
export async function startStream(kube: Kube, namespace: string, name: string): Promise<string[]> {
  const changed: string[] = [];
  for (const d of await deployments(kube, namespace, name)) {
    const replicas = Number(d.metadata?.annotations?.[REPLICAS_ANNOTATION] ?? '1');
    if (d.metadata?.annotations?.[STOPPED_ANNOTATION] !== 'true' && d.spec?.replicas === replicas) continue;
    await scale(kube, d, { metadata: { annotations: { [STOPPED_ANNOTATION]: null } }, spec: { replicas } });
    changed.push(d.metadata!.name!);
  }
  return changed;
}

export async function streamStatus(kube: Kube, namespace: string, name: string): Promise<PipelineStatus> {
  const found = await deployments(kube, namespace, name);
  const pods = await kube.list<V1Pod>('v1', 'Pod', { namespace, labelSelector: `${PIPELINE_LABEL}=${name}` });
  const components = found.map((d): ComponentStatus => {
    const component = d.metadata?.labels?.[COMPONENT_LABEL] ?? '';
    const mine = pods.filter(
      (p) => p.metadata?.labels?.[COMPONENT_LABEL] === component && !p.metadata?.deletionTimestamp,
    );
    return {
      component,
      deployment: d.metadata?.name ?? '',
      replicas: Number(d.metadata?.annotations?.[REPLICAS_ANNOTATION] ?? d.spec?.replicas ?? 1),
      desired: d.spec?.replicas ?? 0,
      ready: d.status?.readyReplicas ?? 0,
      pods: mine
        .map((p) => ({
          name: p.metadata?.name ?? '',
          phase: p.status?.phase ?? 'Unknown',
          ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
          node: p.spec?.nodeName ?? '',
        }))
        .sort((a, b) => a.name.localeCompare(b.name)),
    };
  });
  const stopped = found.some((d) => d.metadata?.annotations?.[STOPPED_ANNOTATION] === 'true');
  return {
    name,
    namespace,
    stopped,
    healthy: stopped || components.every((c) => c.ready >= c.desired),
    components,
  };
}

/** Scale one micro-service's Deployment, by a merge patch that leaves what koala applied. */
async function scale(kube: Kube, d: V1Deployment, body: unknown): Promise<void> {
  const path =
    `/apis/apps/v1/namespaces/${encodeURIComponent(d.metadata!.namespace!)}` +
    `/deployments/${encodeURIComponent(d.metadata!.name!)}`;
  await mergePatch(kube, path, body, `Scaling deployment ${d.metadata!.name}`);
}

/**
 * Delete a pipeline: a batch one's CronJob (its runs, Jobs and pods, go with it: they are owned
 * by it) or a stream one's Deployments and Services. The storage Secret and ConfigMap stay:
 * tasks and other pipelines of the namespace share them.
 */
export async function deletePipeline(kube: Kube, namespace: string, name: string): Promise<string[]> {
  const selector = { namespace, labelSelector: `${PIPELINE_LABEL}=${name}` };
  const found = (
    await Promise.all(
      (
        [
          ['batch/v1', 'CronJob'],
          ['apps/v1', 'Deployment'],
          ['v1', 'Service'],
        ] as const
      ).map(async ([apiVersion, kind]) =>
        (await kube.list<Manifest>(apiVersion, kind, selector)).map((o) => ({
          apiVersion,
          kind,
          name: o.metadata.name,
        })),
      ),
    )
  ).flat();
  if (found.length === 0)
    throw new KoalaError(`No pipeline "${name}" in namespace ${namespace}`, {
      exitCode: EXIT.usage,
      hint: '`koala status` lists the pipelines of namespace tasks; --namespace picks another namespace.',
    });
  for (const o of found)
    await kube.delete({ apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.name, namespace } });
  return found.map((o) => `${o.kind.toLowerCase()}/${o.name}`);
}
