import type { V1Node } from '@kubernetes/client-node';
import { isReady } from '../cluster/steps.ts';
import type { Component, Health } from '../components/component.ts';
import { COMPONENTS } from '../components/all.ts';
import { gatewayBase } from '../components/gateway/declaration.ts';
import { listPipelines, listTasks, type TaskHealth } from '../tasks/health.ts';
import { DEFAULT_TASK_NAMESPACE } from '../tasks/render.ts';
import { kindClusters } from '../tools/kind.ts';
import { errorMessage } from '../util/errors.ts';
import type { PlatformContext } from './context.ts';
import { enabledComponents } from './plans.ts';

export interface NodeStatus {
  name: string;
  role: 'control-plane' | 'worker';
  ready: boolean;
  version: string;
}

export interface PlatformStatus {
  healthy: boolean;
  cluster: {
    name: string;
    exists: boolean;
    reachable: boolean;
    context: string;
    /** A cluster koala did not create, reached through its kubeconfig context. */
    existing?: boolean;
    version?: string;
    detail?: string;
    /** The kind clusters there are when this one is not: the user may have meant one of them. */
    others?: string[];
  };
  nodes: NodeStatus[];
  components: Array<{ id: string; title: string } & Health>;
  /** The tasks and stream pipelines of the default namespace (`koala tasks`, `koala pipelines`); absent when none. */
  tasks?: { namespace: string; items: TaskHealth[] };
}

/** Everything `koala status` reports, gathered in parallel and read-only. */
export async function collectStatus(
  ctx: PlatformContext,
  signal: AbortSignal,
  known: readonly Component[] = COMPONENTS,
): Promise<PlatformStatus> {
  const name = ctx.spec.name;
  const existing = ctx.target.kind === 'existing';
  // A cluster koala did not create is there when its context is: kind is not asked.
  const clusters = existing ? [] : await kindClusters(signal);
  const exists = existing ? await hasContext(ctx) : clusters.includes(name);
  const cluster: PlatformStatus['cluster'] = {
    name,
    exists,
    reachable: false,
    context: ctx.kubeTarget.context,
    ...(existing ? { existing: true } : {}),
  };
  let nodes: NodeStatus[] = [];
  if (exists) {
    try {
      const kube = await ctx.kube();
      cluster.version = (await kube.version(5_000)).gitVersion;
      cluster.reachable = true;
      nodes = (await kube.list<V1Node>('v1', 'Node')).map((n) => ({
        name: n.metadata?.name ?? '',
        role: n.metadata?.labels?.['node-role.kubernetes.io/control-plane'] !== undefined ? 'control-plane' : 'worker',
        ready: isReady(n),
        version: n.status?.nodeInfo?.kubeletVersion ?? '',
      }));
      nodes.sort((a, b) => a.name.localeCompare(b.name));
    } catch (error) {
      cluster.detail = errorMessage(error).split('\n')[0];
    }
  } else if (existing) {
    cluster.detail = `the kubeconfig has no context "${ctx.kubeTarget.context}"`;
  } else {
    cluster.detail = 'no such kind cluster';
    cluster.others = clusters;
  }
  const components = await Promise.all(
    enabledComponents(ctx, known).map(async (c) => {
      const health =
        !cluster.reachable && c.id !== 'registry'
          ? { ok: false, detail: 'cluster not reachable' }
          : await c
              .health(ctx, signal)
              .catch((error: unknown): Health => ({ ok: false, detail: errorMessage(error).split('\n')[0]! }));
      return { id: c.id, title: c.title, ...health };
    }),
  );
  const healthy = cluster.reachable && nodes.length > 0 && nodes.every((n) => n.ready) && components.every((c) => c.ok);
  // A task is the user's workload, not the platform: it is shown, and does not make the platform unhealthy.
  const tasks = cluster.reachable
    ? [
        ...(await listTasks(await ctx.kube(), DEFAULT_TASK_NAMESPACE, gatewayBase(ctx.config)).catch(() => [])),
        ...(await listPipelines(await ctx.kube(), DEFAULT_TASK_NAMESPACE).catch(() => [])),
      ]
    : [];
  return {
    healthy,
    cluster,
    nodes,
    components,
    ...(tasks.length > 0 ? { tasks: { namespace: DEFAULT_TASK_NAMESPACE, items: tasks } } : {}),
  };
}

async function hasContext(ctx: PlatformContext): Promise<boolean> {
  try {
    await ctx.kube();
    return true;
  } catch {
    return false;
  }
}
