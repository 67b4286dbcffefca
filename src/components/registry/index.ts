import { fetchRegistry } from '../../cluster/beside-kind.ts';
import { isExistingCluster } from '../../cluster/target.ts';
import type { UpStepId } from '../../orchestration/up-order.ts';
import type { Component } from '../component.ts';
import { REGISTRY } from './declaration.ts';
import type { PlatformContext } from '../../orchestration/context.ts';
import type { Step } from '../../engine/step.ts';
import { isKubernetesNode, KIND_NETWORK } from '../../cluster/names.ts';
import { docker, inspectContainer } from '../../tools/docker.ts';
import { kindNodes } from '../../tools/kind.ts';
import { describeUsers, otherRegistryUsers, registryHostsDir, registryHostsToml } from './users.ts';

/**
 * A local image registry wired into the cluster, as in kind's local-registry recipe: a registry
 * container on 127.0.0.1, joined to the "kind" network, a hosts.toml on every node that sends
 * localhost:<port> to it, and the KEP-1755 ConfigMap that tells tools where to push. Clusters
 * that name the same registry share it; `down` removes it with the last of them.
 */

const REGISTRY_VOLUME_SUFFIX = '-data';
const LOCAL_REGISTRY_DOCS = 'https://kind.sigs.k8s.io/docs/user/local-registry/';

export function registryHostingConfigMap(port: number) {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: 'local-registry-hosting',
      namespace: 'kube-public',
      labels: { 'app.kubernetes.io/managed-by': 'koala' },
    },
    data: {
      'localRegistryHosting.v1': `host: "localhost:${port}"\nhelp: "${LOCAL_REGISTRY_DOCS}"\n`,
    },
  };
}

export function registryRunArgs(r: { name: string; port: number; image: string }): string[] {
  return [
    'run',
    '-d',
    '--restart=always',
    '--name',
    r.name,
    '--label',
    'app.kubernetes.io/managed-by=koala',
    '-p',
    `127.0.0.1:${r.port}:5000`,
    // Images survive `koala down --keep-registry` and a recreated container.
    '-v',
    `${r.name}${REGISTRY_VOLUME_SUFFIX}:/var/lib/registry`,
    r.image,
  ];
}

function registrySteps(ctx: PlatformContext): Step[] {
  const r = ctx.config.registry;
  const hostsDir = registryHostsDir(r.port);
  const hostsToml = registryHostsToml(r.name);
  const configMap = registryHostingConfigMap(r.port);
  const binding = `127.0.0.1:${r.port}`;

  const container: Step = {
    id: 'registry' satisfies UpStepId,
    title: `Start the local registry on ${binding}`,
    plan: () => [{ kind: 'command', tool: 'docker', args: registryRunArgs(r) }],
    async check({ signal }) {
      const state = await inspectContainer(r.name, signal);
      if (!state) return { done: false, reason: 'no registry container' };
      if (!state.ports['5000/tcp']?.includes(binding) || state.image !== r.image)
        return { done: false, reason: 'registry container has another port or image' };
      return state.running
        ? { done: true, detail: `running on ${binding}` }
        : { done: false, reason: 'registry container is stopped' };
    },
    async run({ signal, report }) {
      const state = await inspectContainer(r.name, signal);
      if (state && state.ports['5000/tcp']?.includes(binding) && state.image === r.image) {
        await docker(['start', r.name], { signal });
        return 'started';
      }
      if (state) {
        report('replacing the registry container (port or image changed; its images are kept in a volume)');
        await docker(['rm', '-f', r.name], { signal });
      }
      await docker(registryRunArgs(r), { signal, timeoutMs: 5 * 60_000 });
      return `running on ${binding}`;
    },
  };

  const network: Step = {
    id: 'registry-network' satisfies UpStepId,
    title: `Connect the registry to the "${KIND_NETWORK}" network`,
    plan: () => [{ kind: 'command', tool: 'docker', args: ['network', 'connect', KIND_NETWORK, r.name] }],
    async check({ signal }) {
      const state = await inspectContainer(r.name, signal);
      return state?.networks.includes(KIND_NETWORK) ? { done: true } : { done: false };
    },
    async run({ signal }) {
      await docker(['network', 'connect', KIND_NETWORK, r.name], { signal });
    },
  };

  const readHosts = async (node: string, signal: AbortSignal): Promise<string | undefined> => {
    try {
      return `${await docker(['exec', node, 'cat', `${hostsDir}/hosts.toml`], { signal })}\n`;
    } catch {
      return undefined;
    }
  };
  const writeHostsArgs = (node: string): string[] => [
    'exec',
    '-i',
    node,
    'sh',
    '-c',
    `mkdir -p '${hostsDir}' && cat > '${hostsDir}/hosts.toml'`,
  ];

  // `kind get nodes` lists the load balancer too; it runs no containerd (nor a shell).
  const nodesOf = async (signal: AbortSignal): Promise<string[]> =>
    (await kindNodes(ctx.spec.name, signal)).filter((n) => isKubernetesNode(ctx.spec.name, n));

  const hosts: Step = {
    id: 'registry-hosts' satisfies UpStepId,
    title: `Point containerd on every node at the registry (localhost:${r.port})`,
    plan: () => [{ kind: 'command', tool: 'docker', args: writeHostsArgs('<each node>'), input: hostsToml }],
    async check({ signal }) {
      const nodes = await nodesOf(signal);
      const stale = [];
      for (const node of nodes) if ((await readHosts(node, signal)) !== hostsToml) stale.push(node);
      return stale.length === 0
        ? { done: true, detail: `${nodes.length} nodes configured` }
        : { done: false, reason: `${stale.length} nodes to configure` };
    },
    async run({ signal }) {
      const nodes = await nodesOf(signal);
      await Promise.all(nodes.map((node) => docker(writeHostsArgs(node), { signal, input: hostsToml })));
      return `${nodes.length} nodes configured`;
    },
  };

  const hosting: Step = {
    id: 'registry-hosting' satisfies UpStepId,
    title: 'Publish the registry in kube-public/local-registry-hosting',
    plan: () => [{ kind: 'manifest', manifest: configMap }],
    async check() {
      return (await (await ctx.kube()).isApplied(configMap)) ? { done: true } : { done: false };
    },
    async run() {
      await (await ctx.kube()).apply(configMap);
    },
  };

  return [container, network, hosts, hosting];
}

export const registry: Component = {
  ...REGISTRY,
  title: 'Local image registry',
  // A container beside koala's kind cluster: a cluster koala did not create pulls from registry.external.
  enabled: (config) => config.registry.enabled && !isExistingCluster(config),
  steps: registrySteps,
  async health(ctx, signal) {
    const r = ctx.config.registry;
    const state = await inspectContainer(r.name, signal).catch(() => undefined);
    if (!state) return { ok: false, missing: true, detail: `no container "${r.name}"` };
    if (!state.running) return { ok: false, detail: `container "${r.name}" is ${state.status}` };
    try {
      const response = await fetchRegistry(r, '/v2/', { signal, timeoutMs: 3_000 });
      return response.ok
        ? { ok: true, detail: `localhost:${r.port} answers` }
        : { ok: false, detail: `localhost:${r.port}/v2/ answered ${response.status}` };
    } catch {
      return { ok: false, detail: `localhost:${r.port} does not answer` };
    }
  },
  endpoints: (ctx) => [{ name: 'Image registry', url: `localhost:${ctx.config.registry.port}` }],
  teardown(ctx, { keepRegistry }) {
    if (keepRegistry) return [];
    const r = ctx.config.registry;
    return [
      {
        id: 'registry-delete',
        title: `Remove the registry "${r.name}" and its images, unless another cluster uses it`,
        plan: () => [
          { kind: 'note', text: `kept while the nodes of another kind cluster send localhost:${r.port} to it` },
          { kind: 'command', tool: 'docker', args: ['rm', '-f', r.name] },
          { kind: 'command', tool: 'docker', args: ['volume', 'rm', `${r.name}${REGISTRY_VOLUME_SUFFIX}`] },
        ],
        async check({ signal }) {
          const users = await otherRegistryUsers(r, ctx.spec.name, signal);
          if (users.length > 0) return { done: true, detail: `kept: ${describeUsers(users)}` };
          const state = await inspectContainer(r.name, signal);
          const volume = await docker(['volume', 'ls', '-q', '--filter', `name=^${r.name}${REGISTRY_VOLUME_SUFFIX}$`], {
            signal,
          });
          return !state && !volume.trim() ? { done: true, detail: 'no registry' } : { done: false };
        },
        async run({ signal }) {
          await docker(['rm', '-f', r.name], { signal, okExitCodes: [1] });
          await docker(['volume', 'rm', '-f', `${r.name}${REGISTRY_VOLUME_SUFFIX}`], { signal });
        },
      },
    ];
  },
};
