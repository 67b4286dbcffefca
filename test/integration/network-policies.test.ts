/**
 * The NetworkPolicies on the real API server: it accepts every one koala renders, and the
 * policies as stored allow exactly the allow matrix. Probe pods with the platform's labels run
 * in every platform namespace (kwok gives them addresses); an independent NetworkPolicy
 * evaluator decides, for every pair of endpoints and every interesting port, whether the
 * stored policies let the connection through, and the answer must be the matrix's.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1Namespace, V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { GATEWAY } from '../../src/components/gateway/declaration.ts';
import { apiServerAddress } from '../../src/components/network-policies/index.ts';
import { PolicyEvaluator, type Endpoint } from '../../src/components/network-policies/evaluate.ts';
import { allowRules, matrixAllows, type ApiServerAddress } from '../../src/components/network-policies/matrix.ts';
import { renderPolicies } from '../../src/components/network-policies/render.ts';
import { runPlan } from '../../src/engine/runner.ts';
import type { PlatformContext } from '../../src/orchestration/context.ts';
import { componentPlan, helmRecorder, platformConfig, testbedContext, uniquePrefix } from '../support/platform.ts';
import { kubectl, testbed, testbedKube } from '../support/testbed.ts';

const prefix = uniquePrefix('np');
let ctx: PlatformContext;
let apiServer: ApiServerAddress;
const saved = process.env.KOALA_HELM;

/** Probe pods: name → namespace suffix and labels, as the real workloads carry them. */
const PROBES: Record<string, { ns: string; labels: Record<string, string> }> = {
  'operator-controller': {
    ns: 'spark-operator',
    labels: { 'app.kubernetes.io/name': 'spark-operator', 'app.kubernetes.io/component': 'controller' },
  },
  'operator-webhook': {
    ns: 'spark-operator',
    labels: { 'app.kubernetes.io/name': 'spark-operator', 'app.kubernetes.io/component': 'webhook' },
  },
  driver: { ns: 'jobs', labels: { 'spark-role': 'driver', 'sparkoperator.k8s.io/app-name': 'pi' } },
  executor: { ns: 'jobs', labels: { 'spark-role': 'executor', 'sparkoperator.k8s.io/app-name': 'pi' } },
  'other-job-driver': { ns: 'jobs2', labels: { 'spark-role': 'driver' } },
  minio: { ns: 'object-store', labels: { app: 'minio', release: 'minio' } },
  'bucket-job': { ns: 'object-store', labels: { 'koala.dev/job': 'buckets' } },
  scheduler: { ns: 'airflow', labels: { tier: 'airflow', component: 'scheduler', release: 'airflow' } },
  'api-server': { ns: 'airflow', labels: { tier: 'airflow', component: 'api-server', release: 'airflow' } },
  postgres: {
    ns: 'airflow',
    labels: { 'app.kubernetes.io/name': 'koala-postgres', 'app.kubernetes.io/instance': 'airflow-postgres' },
  },
  gateway: { ns: 'gateway', labels: { 'app.kubernetes.io/name': 'koala-gateway' } },
  // A published service, in a namespace `koala tasks deploy` labelled for the gateway.
  'published-app': { ns: 'published', labels: { app: 'flask' } },
  'kube-dns': { ns: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
  outsider: { ns: 'other', labels: { app: 'curious' } },
};
const probeNamespace = (ns: string): string => (ns === 'kube-system' ? 'kube-system' : `${prefix}-${ns}`);

beforeAll(async () => {
  process.env.KOALA_HELM = helmRecorder(path.join(testbed().binDir, 'helm3')).wrapper;
  // Two job namespaces (drivers of one must not reach executors of the other); host ports on.
  ctx = testbedContext(
    platformConfig(prefix, undefined, (c) => {
      c.spark.jobNamespaces = [`${prefix}-jobs`, `${prefix}-jobs2`];
      c.ports = { airflow: 8080, objectStore: 9000, objectStoreConsole: 9001, gateway: 8000 };
    }),
  );
  const result = await runPlan(componentPlan(ctx).select({ only: ['platform', 'network-policies'] }));
  expect(result.steps.filter((s) => s.status === 'failed').map((s) => `${s.id}: ${s.error?.message}`)).toEqual([]);
  const kube = await testbedKube();
  apiServer = await apiServerAddress(kube);
  await kube.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `${prefix}-other` } });
  await kube.apply({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: `${prefix}-published`, labels: { [GATEWAY.backendLabel]: 'true' } },
  });
  for (const [name, probe] of Object.entries(PROBES)) {
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: `${prefix}-${name}`,
        namespace: probeNamespace(probe.ns),
        labels: { ...probe.labels, 'koala.test/probe': prefix },
      },
      spec: { containers: [{ name: 'probe', image: 'registry.invalid/probe:1' }] },
    });
  }
  // kwok assigns each pod an address once it is scheduled.
  for (let i = 0; i < 100; i++) {
    const pods = JSON.parse(kubectl(['get', 'pods', '-A', '-l', `koala.test/probe=${prefix}`, '-o', 'json'])) as {
      items: V1Pod[];
    };
    if (pods.items.length === Object.keys(PROBES).length && pods.items.every((p) => p.status?.podIP)) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
});

afterAll(() => {
  process.env.KOALA_HELM = saved;
  kubectl([
    'delete',
    'pods',
    '-n',
    'kube-system',
    '-l',
    `koala.test/probe=${prefix}`,
    '--ignore-not-found',
    '--wait=false',
  ]);
  for (const ns of [
    'system',
    'spark-operator',
    'jobs',
    'jobs2',
    'object-store',
    'airflow',
    'gateway',
    'published',
    'other',
  ])
    kubectl(['delete', 'namespace', `${prefix}-${ns}`, '--ignore-not-found', '--wait=false']);
});

async function stored(): Promise<{
  policies: V1NetworkPolicy[];
  evaluator: PolicyEvaluator;
  endpoints: Array<Endpoint & { name: string }>;
}> {
  const kube = await testbedKube();
  const policies = (await kube.list<V1NetworkPolicy>('networking.k8s.io/v1', 'NetworkPolicy')).filter((p) =>
    p.metadata?.namespace?.startsWith(`${prefix}-`),
  );
  const namespaces = (await kube.list<V1Namespace>('v1', 'Namespace')).map((n) => ({
    name: n.metadata!.name!,
    labels: n.metadata?.labels ?? {},
  }));
  const pods = await kube.list<V1Pod>('v1', 'Pod', { labelSelector: `koala.test/probe=${prefix}` });
  const endpoints: Array<Endpoint & { name: string }> = [
    ...pods.map((p) => ({
      kind: 'pod' as const,
      name: p.metadata!.name!.slice(prefix.length + 1),
      namespace: p.metadata!.namespace!,
      labels: p.metadata!.labels ?? {},
      // The matrix's labelled-namespace groups (tasks with storage, published services) go by these.
      namespaceLabels: namespaces.find((n) => n.name === p.metadata!.namespace)?.labels ?? {},
      ...(p.status?.podIP ? { ip: p.status.podIP } : {}),
    })),
    ...apiServer.ips.map((ip) => ({ kind: 'ip' as const, name: `api-server ${ip}`, ip })),
    { kind: 'ip', name: 'internet 8.8.8.8', ip: '8.8.8.8' },
    { kind: 'ip', name: 'kind node 172.18.0.3', ip: '172.18.0.3' },
  ];
  return { policies, evaluator: new PolicyEvaluator(policies, namespaces), endpoints };
}

describe('NetworkPolicies on the API server', () => {
  it('the API server accepted every policy koala renders, as rendered', async () => {
    const { policies } = await stored();
    const rendered = renderPolicies(ctx.config, apiServer);
    expect(policies.map((p) => `${p.metadata?.namespace}/${p.metadata?.name}`).sort()).toEqual(
      rendered.map((p) => `${p.namespace}/${p.name}`).sort(),
    );
    for (const namespace of [
      ...ctx.config.spark.jobNamespaces,
      ...Object.values(ctx.config.namespaces).filter((n) => n !== ctx.config.namespaces.system),
    ]) {
      expect(
        policies.some((p) => p.metadata?.namespace === namespace && p.metadata.name === 'koala-default-deny'),
        namespace,
      ).toBe(true);
    }
  });

  it('allow exactly the matrix: every pair of endpoints, every interesting port', async () => {
    const { evaluator, endpoints } = await stored();
    expect(endpoints.filter((e) => e.kind === 'pod')).toHaveLength(Object.keys(PROBES).length);
    const ports = new Set<number>([
      22,
      80,
      4040,
      5432,
      7078,
      7079,
      8080,
      8333,
      8793,
      8888,
      9000,
      9001,
      9443,
      12345,
      53,
      ...apiServer.ports,
    ]);
    for (const rule of allowRules(ctx.config, apiServer))
      if (rule.ports !== 'all') for (const p of rule.ports) ports.add(p.port);
    const mismatches: string[] = [];
    let probes = 0;
    let allowed = 0;
    for (const from of endpoints) {
      for (const to of endpoints) {
        if (from === to) continue;
        for (const port of ports) {
          for (const protocol of port === 53 ? (['UDP', 'TCP'] as const) : (['TCP'] as const)) {
            probes += 1;
            const policy = evaluator.allows({ from, to, port, protocol }).allowed;
            const matrix = matrixAllows(ctx.config, apiServer, { from, to, port, protocol });
            if (policy) allowed += 1;
            if (policy !== matrix)
              mismatches.push(
                `${from.name} → ${to.name}:${port}/${protocol}: ` +
                  `policies ${policy ? 'allow' : 'deny'}, matrix ${matrix ? 'allows' : 'denies'}`,
              );
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
    console.log(`[figures network-policies] ${probes} probes, ${allowed} allowed, ${probes - allowed} denied`);
  });

  it('spot checks, in words', async () => {
    const { evaluator, endpoints } = await stored();
    const e = (name: string) => endpoints.find((x) => x.name === name)!;
    const may = (from: string, to: string, port: number, protocol: 'TCP' | 'UDP' = 'TCP') =>
      evaluator.allows({ from: e(from), to: e(to), port, protocol }).allowed;
    expect(may('driver', 'minio', 9000)).toBe(true);
    expect(may('driver', 'executor', 7079)).toBe(true);
    expect(may('driver', 'kube-dns', 53, 'UDP')).toBe(true);
    expect(may('scheduler', 'postgres', 5432)).toBe(true);
    expect(may('scheduler', `api-server ${apiServer.ips[0]}`, apiServer.ports.at(-1)!)).toBe(true);
    expect(may('driver', 'postgres', 5432)).toBe(false);
    expect(may('outsider', 'postgres', 5432)).toBe(false);
    expect(may('other-job-driver', 'executor', 7079)).toBe(false);
    expect(may('driver', 'operator-webhook', 9443)).toBe(false);
    // The gateway reaches a published service on its port, and nothing of the platform's.
    expect(may('gateway', 'published-app', 5000)).toBe(true);
    expect(may('gateway', 'minio', 9000)).toBe(false);
    expect(may('gateway', 'outsider', 5000)).toBe(false);
    expect(may('driver', 'gateway', 8080)).toBe(false);
    expect(may('kind node 172.18.0.3', 'gateway', 8080)).toBe(true);
    expect(may(`api-server ${apiServer.ips[0]}`, 'operator-webhook', 9443)).toBe(true);
    expect(may('scheduler', 'internet 8.8.8.8', 443)).toBe(false);
    expect(may('minio', 'scheduler', 8080)).toBe(false);
    expect(may('kind node 172.18.0.3', 'api-server', 8080)).toBe(true); // host access through the NodePort
    expect(may('kind node 172.18.0.3', 'postgres', 5432)).toBe(false);
  });
});
