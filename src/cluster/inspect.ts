import type { V1ConfigMap } from '@kubernetes/client-node';
import type { PlatformContext } from '../orchestration/context.ts';
import { kindClusters } from '../tools/kind.ts';
import { CLUSTER_SPEC_CONFIGMAP } from './steps.ts';
import type { ClusterSpec } from './spec.ts';

export interface ExistingCluster {
  exists: boolean;
  /** The spec recorded by the `up` that made it, when the API server answers. */
  spec?: ClusterSpec;
}

/** What is there already: read-only, so `up` can compare before it changes anything. */
export async function inspectCluster(ctx: PlatformContext, signal?: AbortSignal): Promise<ExistingCluster> {
  if (!(await kindClusters(signal)).includes(ctx.spec.name)) return { exists: false };
  try {
    const kube = await ctx.kube();
    const cm = await kube.get<V1ConfigMap>({ apiVersion: 'v1', kind: 'ConfigMap', metadata: CLUSTER_SPEC_CONFIGMAP });
    const json = cm?.data?.['spec.json'];
    return json ? { exists: true, spec: JSON.parse(json) as ClusterSpec } : { exists: true };
  } catch {
    // Unreachable or half-made: the cluster step decides what to do with it.
    return { exists: true };
  }
}
