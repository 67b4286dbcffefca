import type { UpStepId } from '../orchestration/up-order.ts';
import type { Step } from '../engine/step.ts';
import { waitFor } from '../kube/wait.ts';
import type { PlatformContext } from '../orchestration/context.ts';
import { readRecord, writeRecord } from '../orchestration/state.ts';
import {
  createCluster,
  createClusterArgs,
  deleteCluster,
  deleteClusterArgs,
  kindClusters,
  kindNodes,
} from '../tools/kind.ts';
import { KoalaError } from '../util/errors.ts';
import { kindConfigYaml, loadKindTemplate, renderKindConfig } from './kind-config.ts';
import { clusterContainers, nodeNames } from './names.ts';
import type { V1Node } from '@kubernetes/client-node';

export const CLUSTER_SPEC_CONFIGMAP = { namespace: 'kube-public', name: 'koala-cluster-spec' };

/** `kind create cluster`, unless a complete cluster of that name exists. */
export function clusterStep(ctx: PlatformContext): Step {
  const { spec } = ctx;
  // The load balancer too: without it an HA cluster's API server has no endpoint.
  const expected = clusterContainers(spec).map((c) => c.name);
  const nodeCount = nodeNames(spec).length;
  return {
    id: 'cluster' satisfies UpStepId,
    title: `Create kind cluster "${spec.name}" (${spec.controlPlanes} control-plane, ${spec.workers} worker)`,
    timeoutMs: ctx.config.timeouts.clusterCreateSeconds * 1000 + 120_000,
    plan: async () => [
      ...(ctx.recreate ? [{ kind: 'command' as const, tool: 'kind', args: deleteClusterArgs(spec.name) }] : []),
      { kind: 'command', tool: 'kind', args: createClusterArgs(spec.name), input: 'the kind config below' },
      { kind: 'manifest', manifest: renderKindConfig(spec, await loadKindTemplate()) },
    ],
    async check({ signal }) {
      if (!(await kindClusters(signal)).includes(spec.name)) return { done: false, reason: 'no such cluster' };
      if (ctx.recreate) return { done: false, reason: '--recreate' };
      if ((await readRecord(ctx.home))?.phase === 'creating')
        return { done: false, reason: 'an earlier create was interrupted' };
      const nodes = await kindNodes(spec.name, signal);
      const missing = expected.filter((n) => !nodes.includes(n));
      if (missing.length > 0) return { done: false, reason: `containers missing: ${missing.join(', ')}` };
      return { done: true, detail: `${nodeCount} nodes exist` };
    },
    async run({ signal, report }) {
      if ((await kindClusters(signal)).includes(spec.name)) {
        report(
          ctx.recreate
            ? 'deleting the existing cluster (--recreate)'
            : 'deleting an incomplete cluster left by an interrupted run',
        );
        await deleteUntilGone(spec.name, signal, report);
      }
      await writeRecord(ctx.home, 'creating');
      await createCluster(spec.name, await kindConfigYaml(spec), {
        signal,
        timeoutMs: ctx.config.timeouts.clusterCreateSeconds * 1000,
        onLine: (line) => report(line.replace(/^\s*[✓✗•]\s*/u, '')),
      });
      await writeRecord(ctx.home, 'created');
      return `${nodeCount} nodes, ${spec.kubernetesVersion}`;
    },
  };
}

/**
 * `kind delete cluster`, again until no container of the cluster is left. After an interrupted
 * create, the `docker run` processes of the killed kind may still be starting node containers
 * (Docker copies the node image's /var into each one's volume first); kind cannot remove a
 * container that is starting, yet reports it deleted, and the next create finds it.
 */
async function deleteUntilGone(name: string, signal: AbortSignal, report: (line: string) => void): Promise<void> {
  const deadline = Date.now() + 180_000;
  for (;;) {
    await deleteCluster(name, { signal });
    const left = await kindNodes(name, signal);
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      throw new KoalaError(`kind could not delete ${left.join(', ')} of cluster "${name}"`, {
        hint: `Remove them with \`docker rm -f ${left.join(' ')}\`, then run \`koala up\` again.`,
      });
    }
    report(`${left.length} node containers are still starting; deleting them again`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, 2_000);
      signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  }
}

/** Wait for the API server, then for every node to be Ready, through a watch. */
export function nodesReadyStep(ctx: PlatformContext): Step {
  // koala knows the shape of its own cluster; of another it asks only for one Ready node.
  const expected = ctx.target.kind === 'kind' ? nodeNames(ctx.spec).length : 1;
  const timeoutMs = ctx.config.timeouts.nodesReadySeconds * 1000;
  return {
    id: 'nodes-ready' satisfies UpStepId,
    title: `Wait for the API server and ${expected} ${expected === 1 ? 'node' : 'nodes'} to be Ready`,
    timeoutMs: timeoutMs + 60_000,
    plan: () => [
      { kind: 'wait', what: `the API server of context ${ctx.kubeTarget.context}`, timeoutMs: 60_000 },
      { kind: 'wait', what: `${expected} nodes Ready`, timeoutMs },
    ],
    async check() {
      try {
        const kube = await ctx.kube();
        await kube.version(3_000);
        const nodes = await kube.list<V1Node>('v1', 'Node');
        const ready = nodes.filter(isReady).length;
        return ready >= expected
          ? { done: true, detail: `${ready} ${ready === 1 ? 'node' : 'nodes'} Ready` }
          : { done: false, reason: `${ready}/${expected} Ready` };
      } catch {
        return { done: false, reason: 'API server not reachable yet' };
      }
    },
    async run({ signal, report }) {
      const kube = await waitForApiServer(ctx, { signal, report, timeoutMs: 60_000 });
      await waitFor<V1Node>(kube, {
        path: '/api/v1/nodes',
        what: `${expected} nodes to be Ready`,
        timeoutMs,
        signal,
        onProgress: report,
        until: (nodes) => {
          const ready = nodes.filter(isReady).length;
          const waitingOn = notReadyNodes(nodes);
          return {
            done: nodes.length >= expected && ready >= expected,
            progress: `${ready}/${expected} nodes Ready` + (waitingOn ? `; not Ready: ${waitingOn}` : ''),
          };
        },
      });
      return `${expected} nodes Ready`;
    },
  };
}

/**
 * The API server cannot be watched before it answers, so this is the one place koala probes:
 * a short per-probe timeout (a wedged server must not hang the probe) under an overall deadline.
 */
async function waitForApiServer(
  ctx: PlatformContext,
  options: { signal: AbortSignal; report: (l: string) => void; timeoutMs: number },
) {
  const deadline = Date.now() + options.timeoutMs;
  options.report(`waiting up to ${Math.round(options.timeoutMs / 1000)}s for the API server`);
  let lastError: unknown;
  for (;;) {
    options.signal.throwIfAborted();
    try {
      const kube = await ctx.kube();
      await kube.version(3_000);
      return kube;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new KoalaError(
        `The API server of "${ctx.spec.name}" did not answer within ${Math.round(options.timeoutMs / 1000)}s`,
        {
          hint: 'HA kind clusters do not survive a Docker restart; `koala up --recreate` builds the cluster again.',
          cause: lastError,
        },
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}

export function isReady(node: V1Node): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/**
 * The nodes that are not Ready, each with its Ready condition's reason and message, so a
 * timeout names the node and what its kubelet reports (for example that the CNI is not
 * initialised) instead of only a count.
 */
export function notReadyNodes(nodes: V1Node[]): string {
  return nodes
    .filter((n) => !isReady(n))
    .map((n) => {
      const ready = n.status?.conditions?.find((c) => c.type === 'Ready');
      const why = [ready?.reason, ready?.message].filter(Boolean).join(': ');
      return `${n.metadata?.name ?? '?'}${why ? ` (${why.length > 160 ? `${why.slice(0, 157)}...` : why})` : ''}`;
    })
    .join(', ');
}

/** Record the spec in the cluster, so the next `up` can tell whether koala.yaml changed. */
export function clusterSpecStep(ctx: PlatformContext): Step {
  const manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { ...CLUSTER_SPEC_CONFIGMAP, labels: { 'app.kubernetes.io/managed-by': 'koala' } },
    data: { 'spec.json': JSON.stringify(ctx.spec) },
  };
  return {
    id: 'cluster-spec' satisfies UpStepId,
    title: 'Record the cluster spec',
    plan: () => [{ kind: 'manifest', manifest }],
    async check() {
      return (await (await ctx.kube()).isApplied(manifest)) ? { done: true } : { done: false };
    },
    async run() {
      await (await ctx.kube()).apply(manifest);
    },
  };
}
