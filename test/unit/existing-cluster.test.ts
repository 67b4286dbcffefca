/**
 * A cluster koala did not create (cluster.context), as data: its plan has no kind and no
 * local registry, `down` uninstalls exactly the releases `up` installs, and the rules that pick
 * the state directory and read the network plugin.
 */
import { describe, expect, it } from 'vitest';
import { networkPolicyEnforcement } from '../../src/cluster/existing.ts';
import { clusterSpec, resolveNodeImage } from '../../src/cluster/spec.ts';
import { clusterTarget, contextHome, kindClusterOfContext } from '../../src/cluster/target.ts';
import { loadConfig } from '../../src/config/load.ts';
import { defaultConfig } from '../../src/config/schema.ts';
import { deliveryFor } from '../../src/jobs/run.ts';
import { createPlatformContext } from '../../src/orchestration/context.ts';
import { downPlan, upPlan } from '../../src/orchestration/plans.ts';
import { ConfigError, KoalaError } from '../../src/util/errors.ts';

function context(patch: (c: ReturnType<typeof defaultConfig>) => void = () => {}) {
  const config = defaultConfig('/project');
  config.cluster.context = 'team-prod';
  patch(config);
  return createPlatformContext({
    config,
    env: new Map(),
    spec: clusterSpec(config, resolveNodeImage(config.cluster, '2')),
    processEnv: { KOALA_HOME: '/tmp/koala-existing-test' },
  });
}

describe('the plan on a cluster koala did not create', () => {
  it('reaches the context instead of creating a kind cluster, and has no local registry', async () => {
    const ctx = context();
    expect(ctx.kubeTarget.context).toBe('team-prod');
    expect(ctx.home).toBe(contextHome('team-prod', { KOALA_HOME: '/tmp/koala-existing-test' }));
    const plan = upPlan(ctx);
    expect(plan.steps.map((s) => s.id)).toEqual([
      'cluster',
      'nodes-ready',
      'platform',
      'spark-operator',
      'object-store',
      'object-store-buckets',
      'airflow-postgres',
      'airflow-dags',
      'airflow',
      'gateway',
      'rbac',
      'network-policies',
    ]);
    expect(plan.steps[0]!.title).toBe(
      'Reach the cluster of context "team-prod" (koala did not create it, and leaves it in place)',
    );
    expect(plan.steps[1]!.title).toBe('Wait for the API server and 1 node to be Ready');
    const tools = (await plan.describe()).flatMap((s) =>
      s.actions.flatMap((a) => (a.kind === 'command' ? [a.tool] : [])),
    );
    expect(tools).not.toContain('kind');
    expect(tools).not.toContain('docker');
  });

  it('down uninstalls the releases up installs, the last first, then forgets the context', async () => {
    const ctx = context();
    const up = upPlan(ctx).steps.flatMap((s) => (s.release ? [`${s.release.namespace}/${s.release.name}`] : []));
    expect(up).toEqual([
      'koala-system/koala-platform',
      'spark-operator/spark-operator',
      'object-store/minio',
      'koala-system/koala-postgres',
      'airflow/airflow',
      'koala-system/koala-rbac',
      'koala-system/koala-network-policies',
    ]);
    const down = downPlan(ctx, { keepRegistry: false });
    expect(down.steps.map((s) => s.id)).toEqual([
      'uninstall-koala-network-policies',
      'uninstall-koala-rbac',
      'uninstall-airflow',
      'uninstall-koala-postgres',
      'uninstall-minio',
      'uninstall-spark-operator',
      'uninstall-koala-platform',
      'namespaces',
      'forget',
    ]);
    // One after another: koala's chart holds the namespaces the others live in.
    expect(down.steps.slice(1).map((s) => s.needs)).toEqual(down.steps.slice(0, -1).map((s) => [s.id]));
    const actions = (await down.describe()).flatMap((s) => s.actions);
    expect(actions).toContainEqual({
      kind: 'command',
      tool: 'helm',
      args: ['uninstall', 'koala-platform', '--namespace', 'koala-system'],
    });
    expect(actions.filter((a) => a.kind === 'command' && a.tool !== 'helm')).toEqual([]);
  });

  it('a switched-off component is neither installed nor uninstalled', () => {
    const ctx = context((c) => {
      c.components.airflow!.enabled = false;
    });
    const ids = downPlan(ctx, { keepRegistry: false }).steps.map((s) => s.id);
    expect(ids).not.toContain('uninstall-airflow');
    expect(ids).not.toContain('uninstall-koala-postgres');
    expect(ids).toContain('uninstall-minio');
  });

  it('builds push to registry.external; without one, or with --load, it says what to set (exit 2)', () => {
    const refused = (load: boolean) => {
      try {
        deliveryFor(context(), load);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    for (const load of [false, true]) {
      const error = refused(load);
      expect(error).toBeInstanceOf(KoalaError);
      expect((error as KoalaError).exitCode).toBe(2);
      expect((error as KoalaError).hint).toContain('registry.external');
    }
    const ctx = context((c) => {
      c.registry.external = 'registry.example.com:5000/team';
    });
    expect(deliveryFor(ctx, false)).toEqual({ kind: 'external', repository: 'registry.example.com:5000/team' });
  });
});

describe('which cluster, and where its state lives', () => {
  it.each([
    [
      { name: 'koala', context: undefined },
      { kind: 'kind', name: 'koala', context: 'kind-koala' },
    ],
    [
      { name: 'koala', context: 'team-prod' },
      { kind: 'existing', name: 'koala', context: 'team-prod' },
    ],
  ])('%j is %j', (cluster, target) => {
    const config = defaultConfig('/p');
    Object.assign(config.cluster, cluster);
    expect(clusterTarget(config)).toEqual(target);
  });

  it('gives every context its own directory, whatever characters its name holds', () => {
    const env = { KOALA_HOME: '/h' };
    const eks = contextHome('arn:aws:eks:eu-west-1:123456789012:cluster/prod', env);
    expect(eks).toMatch(/^\/h\/contexts\/arn_aws_eks_eu-west-1_123456789012_cluster_prod-[0-9a-f]{8}$/);
    // Two names that differ only in characters the directory name replaces stay apart.
    expect(contextHome('a/b', env)).not.toBe(contextHome('a:b', env));
    expect(contextHome('a/b', env)).toBe(contextHome('a/b', env));
  });

  it.each([
    ['kind-koala', 'koala'],
    ['kind-a.b', 'a.b'],
    ['team-prod', undefined],
    ['kind', undefined],
  ])('context %s belongs to kind cluster %s', (context, cluster) => {
    expect(kindClusterOfContext(context)).toBe(cluster);
  });
});

describe('whether the network plugin enforces NetworkPolicies, from its DaemonSets', () => {
  it.each([
    [['kube-proxy', 'calico-node'], ['Calico'], []],
    [['cilium', 'cilium-envoy'], ['Cilium'], []],
    [['kindnet', 'kube-proxy'], ["kind's kindnetd (policies since kind 0.24)"], []],
    [['kube-router'], ['kube-router'], []],
    [['kube-flannel-ds', 'kube-proxy'], [], ['Flannel']],
    [['aws-node', 'kube-proxy'], [], []],
    [[], [], []],
  ])('%j: enforcing %j, not enforcing %j', (daemonSets, enforcing, notEnforcing) => {
    expect(networkPolicyEnforcement(daemonSets)).toEqual({ enforcing, notEnforcing });
  });
});

describe('koala.yaml for a cluster koala did not create', () => {
  async function problems(yaml: string): Promise<string> {
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-existing-config-'));
    writeFileSync(path.join(dir, 'koala.yaml'), yaml);
    try {
      await loadConfig({ cwd: dir, processEnv: {} });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).exitCode).toBe(2);
      return (error as Error).message;
    }
    return '';
  }

  it('names the file, the field and what is accepted', async () => {
    expect(await problems('cluster:\n  context: "two words"\n')).toMatch(
      /koala\.yaml:2.*cluster\.context.*the name of a context in your kubeconfig/s,
    );
    expect(await problems('registry:\n  external: https://registry.example.com/team\n')).toMatch(
      /koala\.yaml:2.*registry\.external.*no scheme/s,
    );
  });

  it('takes a context from KOALA_CONTEXT and --context', async () => {
    const loaded = await loadConfig({ cwd: '/nonexistent-koala', processEnv: { KOALA_CONTEXT: 'from-env' } });
    expect(loaded.config.cluster.context).toBe('from-env');
    const flagged = await loadConfig({
      cwd: '/nonexistent-koala',
      processEnv: { KOALA_CONTEXT: 'from-env' },
      flags: [{ path: 'cluster.context', value: 'from-flag', flag: 'context' }],
    });
    expect(flagged.config.cluster.context).toBe('from-flag');
  });
});

describe('koala in a container beside kind (a devcontainer on the host Docker)', () => {
  it('reaches the API server at the address the nodes use: the control plane, or the load balancer', async () => {
    const { internalServer, maybeInContainer } = await import('../../src/cluster/beside-kind.ts');
    expect(internalServer({ name: 'koala', controlPlanes: 1 })).toBe('https://koala-control-plane:6443');
    expect(internalServer({ name: 'koala', controlPlanes: 3 })).toBe('https://koala-external-load-balancer:6443');
    expect(maybeInContainer({ KOALA_CONTAINER: 'dev' })).toBe(true);
    expect(maybeInContainer({ KOALA_CONTAINER: '0' })).toBe(false);
  });
});
