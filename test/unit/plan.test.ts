import { describe, expect, it } from 'vitest';
import { clusterSpec, resolveNodeImage } from '../../src/cluster/spec.ts';
import { defaultConfig } from '../../src/config/schema.ts';
import { createPlatformContext } from '../../src/orchestration/context.ts';
import { downPlan, upPlan } from '../../src/orchestration/plans.ts';

function context(patch: (c: ReturnType<typeof defaultConfig>) => void = () => {}) {
  const config = defaultConfig('/project');
  patch(config);
  return createPlatformContext({
    config,
    env: new Map(),
    spec: clusterSpec(config, resolveNodeImage(config.cluster, '2')),
    processEnv: { KOALA_HOME: '/tmp/koala-plan-test' },
  });
}

describe('the up plan, as data', () => {
  it('orders the cluster and registry steps by their needs, registry beside the cluster', async () => {
    const plan = upPlan(
      context((c) => {
        c.components['spark-operator']!.enabled = false;
        c.components['object-store']!.enabled = false;
        c.components.airflow!.enabled = false;
      }),
    );
    const needs = Object.fromEntries(plan.steps.map((s) => [s.id, s.needs ?? []]));
    expect(needs).toMatchObject({
      cluster: [],
      'nodes-ready': ['cluster'],
      'cluster-spec': ['nodes-ready'],
      registry: [],
      'registry-network': ['cluster', 'registry'],
      'registry-hosts': ['cluster', 'registry'],
      'registry-hosting': ['nodes-ready'],
    });
  });

  it('describes every command with its arguments and every manifest, without secrets', async () => {
    const description = await upPlan(context()).describe();
    const cluster = description.find((s) => s.id === 'cluster')!;
    expect(cluster.actions[0]).toEqual({
      kind: 'command',
      tool: 'kind',
      args: ['create', 'cluster', '--name', 'koala', '--config', '-'],
      input: 'the kind config below',
    });
    const registry = description.find((s) => s.id === 'registry')!;
    expect(registry.actions).toEqual([
      {
        kind: 'command',
        tool: 'docker',
        args: [
          'run',
          '-d',
          '--restart=always',
          '--name',
          'koala-registry',
          '--label',
          'app.kubernetes.io/managed-by=koala',
          '-p',
          '127.0.0.1:5001:5000',
          '-v',
          'koala-registry-data:/var/lib/registry',
          'registry:3',
        ],
      },
    ]);
    const hosting = description.find((s) => s.id === 'registry-hosting')!;
    expect(hosting.actions[0]).toMatchObject({
      kind: 'manifest',
      manifest: {
        kind: 'ConfigMap',
        metadata: { name: 'local-registry-hosting', namespace: 'kube-public' },
        data: {
          'localRegistryHosting.v1':
            'host: "localhost:5001"\nhelp: "https://kind.sigs.k8s.io/docs/user/local-registry/"\n',
        },
      },
    });
  });

  it('leaves the registry out when it is disabled', () => {
    const ids = upPlan(context((c) => (c.registry.enabled = false))).ids();
    expect(ids.filter((id) => id.startsWith('registry'))).toEqual([]);
  });

  it('--recreate deletes the cluster first', async () => {
    const config = defaultConfig('/project');
    const ctx = createPlatformContext({
      config,
      env: new Map(),
      spec: clusterSpec(config, resolveNodeImage(config.cluster, '2')),
      recreate: true,
    });
    const cluster = (await upPlan(ctx).describe()).find((s) => s.id === 'cluster')!;
    expect(cluster.actions[0]).toEqual({
      kind: 'command',
      tool: 'kind',
      args: ['delete', 'cluster', '--name', 'koala'],
    });
  });

  it('down deletes the cluster and the registry, or keeps the registry', async () => {
    expect(downPlan(context(), { keepRegistry: false }).ids()).toEqual(['cluster-delete', 'registry-delete']);
    expect(downPlan(context(), { keepRegistry: true }).ids()).toEqual(['cluster-delete']);
  });
});
