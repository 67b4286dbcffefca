import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  PolicyEvaluator,
  cidrContains,
  matchesSelector,
  type Endpoint,
  type NetworkPolicyLike,
} from '../../../src/components/network-policies/evaluate.ts';
import { networkPoliciesMarkdown } from '../../../src/components/network-policies/markdown.ts';
import { allowRules, matrixAllows, type ApiServerAddress } from '../../../src/components/network-policies/matrix.ts';
import { renderPolicies } from '../../../src/components/network-policies/render.ts';
import { STORAGE_CLIENT_LABEL } from '../../../src/components/object-store/declaration.ts';
import { defaultConfig, type KoalaConfig } from '../../../src/config/schema.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
const pod = (
  namespace: string,
  labels: Record<string, string> = {},
  extra: Partial<Extract<Endpoint, { kind: 'pod' }>> = {},
): Endpoint => ({ kind: 'pod', namespace, labels, ...extra });
const ip = (address: string): Endpoint => ({ kind: 'ip', ip: address });
const policy = (namespace: string, spec: NetworkPolicyLike['spec'], name = 'p'): NetworkPolicyLike => ({
  metadata: { name, namespace },
  spec,
});
const ns = (...names: string[]) => names.map((name) => ({ name, labels: {} }));

describe('NetworkPolicy evaluator: the semantics', () => {
  it('allows everything when no policy selects either end', () => {
    const e = new PolicyEvaluator([], ns('a', 'b'));
    expect(e.allows({ from: pod('a'), to: pod('b'), port: 80 }).allowed).toBe(true);
  });

  it('default-deny ingress isolates the selected pods only, and only for ingress', () => {
    const e = new PolicyEvaluator(
      [policy('b', { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'] })],
      ns('a', 'b'),
    );
    expect(e.allows({ from: pod('a'), to: pod('b', { app: 'db' }), port: 5432 }).allowed).toBe(false);
    expect(e.allows({ from: pod('a'), to: pod('b', { app: 'web' }), port: 80 }).allowed).toBe(true);
    expect(e.allows({ from: pod('b', { app: 'db' }), to: pod('a'), port: 80 }).allowed).toBe(true);
  });

  it('policyTypes defaults to Ingress, plus Egress when egress rules exist', () => {
    const onlyIngress = new PolicyEvaluator([policy('a', { podSelector: {} })], ns('a', 'b'));
    expect(onlyIngress.allows({ from: pod('a'), to: pod('b'), port: 1 }).allowed).toBe(true);
    const withEgress = new PolicyEvaluator(
      [policy('a', { podSelector: {}, egress: [{ to: [{ podSelector: {} }] }] })],
      ns('a', 'b'),
    );
    expect(withEgress.allows({ from: pod('a'), to: pod('b'), port: 1 }).allowed).toBe(false);
    // The ingress of a is isolated too.
    expect(withEgress.allows({ from: pod('a'), to: pod('a', { x: 'y' }), port: 1 }).allowed).toBe(false);
  });

  it('needs both the egress of the source and the ingress of the destination', () => {
    const policies = [
      policy(
        'a',
        {
          podSelector: {},
          policyTypes: ['Egress'],
          egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'b' } } }] }],
        },
        'out',
      ),
      policy('b', { podSelector: {}, policyTypes: ['Ingress'] }, 'deny'),
    ];
    const e = new PolicyEvaluator(policies, ns('a', 'b'));
    const verdict = e.allows({ from: pod('a'), to: pod('b'), port: 80 });
    expect(verdict).toMatchObject({
      allowed: false,
      egress: { isolated: true, allowedBy: ['out'] },
      ingress: { isolated: true, allowedBy: [] },
    });
  });

  it('a podSelector peer means the policy namespace; with a namespaceSelector it is AND, in a separate peer OR', () => {
    const and = new PolicyEvaluator(
      [
        policy('b', {
          podSelector: {},
          ingress: [
            {
              from: [
                { namespaceSelector: { matchLabels: { team: 'x' } }, podSelector: { matchLabels: { role: 'client' } } },
              ],
            },
          ],
        }),
      ],
      [
        { name: 'a', labels: { team: 'x' } },
        { name: 'b', labels: {} },
        { name: 'c', labels: {} },
      ],
    );
    expect(and.allows({ from: pod('a', { role: 'client' }), to: pod('b'), port: 1 }).allowed).toBe(true);
    expect(and.allows({ from: pod('a', { role: 'other' }), to: pod('b'), port: 1 }).allowed).toBe(false);
    expect(and.allows({ from: pod('c', { role: 'client' }), to: pod('b'), port: 1 }).allowed).toBe(false);
    const local = new PolicyEvaluator(
      [policy('b', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }] }] })],
      ns('a', 'b'),
    );
    expect(local.allows({ from: pod('a', { role: 'client' }), to: pod('b'), port: 1 }).allowed).toBe(false);
    expect(local.allows({ from: pod('b', { role: 'client' }), to: pod('b'), port: 1 }).allowed).toBe(true);
  });

  it('ports: protocol defaults to TCP, ranges with endPort, named ports resolve on the destination', () => {
    const e = new PolicyEvaluator(
      [
        policy('b', {
          podSelector: {},
          ingress: [{ ports: [{ port: 53, protocol: 'UDP' }, { port: 8000, endPort: 8010 }, { port: 'http' }] }],
        }),
      ],
      ns('a', 'b'),
    );
    const web = pod('b', {}, { ports: [{ name: 'http', containerPort: 8080 }] });
    expect(e.allows({ from: pod('a'), to: web, port: 53, protocol: 'UDP' }).allowed).toBe(true);
    expect(e.allows({ from: pod('a'), to: web, port: 53, protocol: 'TCP' }).allowed).toBe(false);
    expect(e.allows({ from: pod('a'), to: web, port: 8005 }).allowed).toBe(true);
    expect(e.allows({ from: pod('a'), to: web, port: 8011 }).allowed).toBe(false);
    expect(e.allows({ from: pod('a'), to: web, port: 8080 }).allowed).toBe(true);
    expect(e.allows({ from: pod('a'), to: pod('b'), port: 8080 }).allowed).toBe(false);
  });

  it('ipBlock matches addresses with except; pods only when asked to', () => {
    const policies = [
      policy('a', {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }] }],
      }),
    ];
    const e = new PolicyEvaluator(policies, ns('a', 'b'));
    expect(e.allows({ from: pod('a'), to: ip('10.2.3.4'), port: 1 }).allowed).toBe(true);
    expect(e.allows({ from: pod('a'), to: ip('10.1.3.4'), port: 1 }).allowed).toBe(false);
    expect(e.allows({ from: pod('a'), to: pod('b', {}, { ip: '10.2.3.4' }), port: 1 }).allowed).toBe(false);
    expect(
      new PolicyEvaluator(policies, ns('a', 'b'), { ipBlockMatchesPods: true }).allows({
        from: pod('a'),
        to: pod('b', {}, { ip: '10.2.3.4' }),
        port: 1,
      }).allowed,
    ).toBe(true);
  });

  it('an empty rule list denies; a rule without peers or ports allows all', () => {
    expect(
      new PolicyEvaluator([policy('b', { podSelector: {}, ingress: [] })], ns('a', 'b')).allows({
        from: pod('a'),
        to: pod('b'),
        port: 1,
      }).allowed,
    ).toBe(false);
    expect(
      new PolicyEvaluator([policy('b', { podSelector: {}, ingress: [{}] })], ns('a', 'b')).allows({
        from: ip('1.2.3.4'),
        to: pod('b'),
        port: 1,
      }).allowed,
    ).toBe(true);
  });

  it('label selectors: In, NotIn, Exists, DoesNotExist; CIDRs', () => {
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'In', values: ['1'] }] }, { a: '1' })).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'NotIn', values: ['1'] }] }, {})).toBe(true);
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'Exists' }] }, {})).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'DoesNotExist' }] }, { a: '' })).toBe(false);
    expect(matchesSelector({ matchExpressions: [{ key: 'a', operator: 'Gt', values: ['1'] }] }, { a: '2' })).toBe(
      false,
    );
    expect(cidrContains('0.0.0.0/0', '8.8.8.8')).toBe(true);
    expect(cidrContains('192.168.1.0/24', '192.168.2.1')).toBe(false);
    expect(cidrContains('192.168.1.7/32', '192.168.1.7')).toBe(true);
  });
});

/** The rendered policies, evaluated, against the table: every endpoint kind, port and pair. */
function compare(config: KoalaConfig, api: ApiServerAddress): { mismatches: string[]; probes: number } {
  const policies = renderPolicies(config, api).map((p) => ({
    metadata: { name: p.name, namespace: p.namespace },
    spec: p.spec,
  }));
  const n = config.namespaces;
  const namespaces = [
    ...ns(n.sparkOperator, ...config.spark.jobNamespaces, n.objectStore, n.airflow, 'kube-system', 'default'),
    // Where tasks and pipelines asked for storage: koala labels the namespace.
    { name: 'tasks', labels: { [STORAGE_CLIENT_LABEL]: 'true' } },
  ];
  const namespaceLabels = Object.fromEntries(namespaces.map((x) => [x.name, x.labels]));
  const withNamespaceLabels = (e: Endpoint) =>
    e.kind === 'pod' ? { ...e, namespaceLabels: namespaceLabels[e.namespace] ?? {} } : e;
  const endpoints: Endpoint[] = [
    pod(n.sparkOperator, { 'app.kubernetes.io/component': 'webhook' }),
    ...config.spark.jobNamespaces.flatMap((j) => [
      pod(j, { 'spark-role': 'driver' }),
      pod(j, { 'spark-role': 'executor' }),
    ]),
    pod(n.objectStore, { app: 'minio' }),
    pod(n.airflow, { component: 'scheduler' }),
    pod(n.airflow, { 'app.kubernetes.io/name': 'koala-postgres' }),
    pod('kube-system', { 'k8s-app': 'kube-dns' }),
    pod('kube-system', { 'k8s-app': 'other' }),
    pod('default', {}),
    pod('tasks', { 'koala.dev/task': 'loader' }),
    ...api.ips.map(ip),
    ip('8.8.8.8'),
    ip('203.0.113.7'),
  ];
  const evaluator = new PolicyEvaluator(policies, namespaces);
  const ports = [22, 53, 443, 4040, 5432, 6443, 7079, 8080, 8333, 8793, 8888, 9000, 9001, 9443];
  const mismatches: string[] = [];
  let probes = 0;
  for (const from of endpoints)
    for (const to of endpoints) {
      if (from === to) continue;
      for (const port of ports)
        for (const protocol of ['TCP', 'UDP'] as const) {
          probes += 1;
          const a = evaluator.allows({ from, to, port, protocol }).allowed;
          const b = matrixAllows(config, api, {
            from: withNamespaceLabels(from),
            to: withNamespaceLabels(to),
            port,
            protocol,
          });
          if (a !== b)
            mismatches.push(
              `${JSON.stringify(from)} → ${JSON.stringify(to)}:${port}/${protocol}: policies ${a}, matrix ${b}`,
            );
        }
    }
  return { mismatches, probes };
}

describe('network policies: rendered from the matrix, and agreeing with it', () => {
  const api = { ips: ['172.18.0.2', '172.18.0.3', '10.96.0.1'], ports: [443, 6443] };

  it('for the defaults (MinIO, host ports on)', () => {
    const { mismatches, probes } = compare(defaultConfig(REPO), api);
    expect(mismatches).toEqual([]);
    expect(probes).toBeGreaterThan(3000);
    // Tasks and pipelines reach the store only from a namespace koala labelled for storage.
    const policies = renderPolicies(defaultConfig(REPO), api).map((p) => ({
      metadata: { name: p.name, namespace: p.namespace },
      spec: p.spec,
    }));
    const evaluator = new PolicyEvaluator(policies, [
      ...ns('object-store', 'default'),
      { name: 'tasks', labels: { [STORAGE_CLIENT_LABEL]: 'true' } },
    ]);
    const minio = pod('object-store', { app: 'minio' });
    expect(evaluator.allows({ from: pod('tasks'), to: minio, port: 9000 }).allowed).toBe(true);
    expect(evaluator.allows({ from: pod('tasks'), to: minio, port: 9001 }).allowed).toBe(false);
    expect(evaluator.allows({ from: pod('default'), to: minio, port: 9000 }).allowed).toBe(false);
  });

  it('for SeaweedFS, two job namespaces, host ports off and job egress opened', () => {
    const config = defaultConfig(REPO);
    config.objectStore.type = 'seaweedfs';
    config.spark.jobNamespaces = ['etl', 'ml'];
    config.ports = { airflow: 0, objectStore: 0, objectStoreConsole: 0, gateway: 0 };
    config.networkPolicies.jobEgressCidrs = ['0.0.0.0/0'];
    expect(allowRules(config, api).map((r) => r.id)).toContain('jobs-egress');
    expect(
      allowRules(config, api)
        .map((r) => r.id)
        .filter((id) => id.startsWith('host-')),
    ).toEqual([]);
    expect(compare(config, api).mismatches).toEqual([]);
  });

  it('for an external S3 store: clients reach its port at objectStore.egressCidrs, or outside the pod network', () => {
    const config = defaultConfig(REPO);
    config.objectStore = {
      ...config.objectStore,
      type: 'external',
      endpoint: 'http://203.0.113.7:9000',
      egressCidrs: ['203.0.113.0/24'],
    };
    const allows = (from: Endpoint, to: Endpoint, port: number): boolean =>
      new PolicyEvaluator(
        renderPolicies(config, api).map((p) => ({ metadata: { name: p.name, namespace: p.namespace }, spec: p.spec })),
        ns(config.namespaces.objectStore, 'spark-jobs', config.namespaces.airflow),
      ).allows({ from, to, port }).allowed;
    const driver = pod('spark-jobs', { 'spark-role': 'driver' });
    const bucketJob = pod(config.namespaces.objectStore, { 'koala.dev/job': 'buckets' });
    const scheduler = pod(config.namespaces.airflow, { component: 'scheduler' });
    for (const client of [driver, bucketJob, scheduler]) expect(allows(client, ip('203.0.113.7'), 9000)).toBe(true);
    expect(allows(driver, ip('203.0.113.7'), 22)).toBe(false);
    expect(allows(driver, ip('8.8.8.8'), 9000)).toBe(false);
    expect(compare(config, api).mismatches).toEqual([]);

    config.objectStore.egressCidrs = [];
    expect(allows(driver, ip('8.8.8.8'), 9000)).toBe(true);
    expect(allows(driver, ip('8.8.8.8'), 443)).toBe(false);
    expect(allows(driver, ip('10.244.1.9'), 9000)).toBe(false);
    expect(compare(config, api).mismatches).toEqual([]);
    expect(networkPoliciesMarkdown(config, api)).toContain('The external S3 endpoint http://203.0.113.7:9000');
  });

  it('policy names are unique per namespace (the API server would reject duplicates in one release)', () => {
    const config = defaultConfig(REPO);
    config.spark.jobNamespaces = ['etl', 'ml'];
    const names = renderPolicies(config, api).map((p) => `${p.namespace}/${p.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  it('docs/network-policies.md is the Markdown of the same table', () => {
    const file = readFileSync(path.join(REPO, 'docs/network-policies.md'), 'utf8');
    expect(file, 'run: node scripts/docs/generate.ts').toBe(networkPoliciesMarkdown(defaultConfig(REPO)));
  });

  it('README.md carries the same allow matrix', async () => {
    const { allowMatrixTable, withAllowMatrix } = await import('../../../src/components/network-policies/readme.ts');
    const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const markdown = networkPoliciesMarkdown(defaultConfig(REPO));
    expect(allowMatrixTable(markdown).split('\n').length).toBeGreaterThan(5);
    expect(readme, 'run: node scripts/docs/generate.ts').toBe(withAllowMatrix(readme, markdown));
  });
});

describe('docs/rbac.md', () => {
  it('is the Markdown of the RBAC design table', async () => {
    const { rbacMarkdown } = await import('../../../src/components/rbac/markdown.ts');
    expect(readFileSync(path.join(REPO, 'docs/rbac.md'), 'utf8'), 'run: node scripts/docs/generate.ts').toBe(
      rbacMarkdown(defaultConfig(REPO)),
    );
  });
});
