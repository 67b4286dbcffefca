/**
 * Published services on the test bed's API server: koala's chart and the gateway step of `koala up`
 * (in process, as the platform tests run them), then `koala tasks deploy|list|delete` as a user
 * runs them. The gateway's objects are read back field by field: the Ingresses, the headless
 * Service of a sticky service, each access group's Secret, and Caddy's config with its routes,
 * prefix, rewrite, timeouts, sticky sessions and auth. Deploying again writes nothing; a prefix
 * another namespace holds is refused before anything changes. Caddy itself answering these
 * routes is test/integration/gateway-caddy.test.ts; in the cluster, test/realkind.
 */
import bcrypt from 'bcryptjs';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configHash } from '../../src/components/gateway/objects.ts';
import { runPlan } from '../../src/engine/runner.ts';
import { koala } from '../support/cli.ts';
import { SEED } from '../support/datatask-seed.ts';
import { jsonDocument } from '../support/json-documents.ts';
import { componentPlan, platformConfig, testbedContext, uniquePrefix } from '../support/platform.ts';
import { kubectl, testbed } from '../support/testbed.ts';
import { jobsWorld } from './jobs-world.ts';

const prefix = uniquePrefix('gw');
const namespace = `${prefix}-tasks`;
const gatewayNs = `${prefix}-gateway`;
const ingressClass = `koala-${prefix}-system`;
const saved = process.env.KOALA_HELM;
let world: ReturnType<typeof jobsWorld>;
let tasksDir = '';

const json = <T>(args: string[]): T => JSON.parse(kubectl([...args, '-o', 'json'])) as T;
const secretData = (name: string): Record<string, string> =>
  Object.fromEntries(
    Object.entries(json<{ data: Record<string, string> }>(['get', 'secret', name, '-n', gatewayNs]).data).map(
      ([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')],
    ),
  );
type Route = { match?: Array<{ path: string[] }>; handle: Array<Record<string, unknown>> };
/** Caddy's routes as the gateway's Secret holds them, by their first path. */
function caddyRoutes(): Map<string, Array<Record<string, unknown>>> {
  const config = JSON.parse(secretData('gateway-config')['caddy.json']!) as {
    apps: { http: { servers: { gateway: { routes: Route[] } } } };
  };
  const out = new Map<string, Array<Record<string, unknown>>>();
  for (const route of config.apps.http.servers.gateway.routes) {
    const [first] = route.handle;
    const handlers = first?.handler === 'subroute' ? (first.routes as Route[]).flatMap((r) => r.handle) : route.handle;
    out.set(route.match?.[0]?.path[0] ?? '(any)', handlers);
  }
  return out;
}
/** What koala wrote: each object's generation (or, for Secrets, resourceVersion) in both namespaces. */
const writes = (): string[] =>
  [namespace, gatewayNs].flatMap((ns) =>
    kubectl([
      'get',
      'deployments,services,ingresses,secrets',
      '-n',
      ns,
      '-o',
      'jsonpath={range .items[*]}{.kind}/{.metadata.name} {.metadata.generation} ' +
        '{.metadata.resourceVersion}{"\\n"}{end}',
    ])
      .split('\n')
      .filter(Boolean)
      // Controllers write a Deployment's and a Service's status; only Secrets are koala's alone.
      .map((line) => (line.startsWith('Secret/') ? line : line.split(' ').slice(0, 2).join(' '))),
  );

function writeTask(root: string, name: string, manifest: unknown): void {
  mkdirSync(path.join(root, name), { recursive: true });
  writeFileSync(path.join(root, name, 'manifest.json'), JSON.stringify(manifest, null, 2));
}

beforeAll(async () => {
  process.env.KOALA_HELM = path.join(testbed().binDir, 'helm3');
  const ctx = testbedContext(platformConfig(prefix, undefined));
  const result = await runPlan(componentPlan(ctx).select({ only: ['platform', 'gateway'] }));
  expect(result.steps.filter((s) => s.status === 'failed').map((s) => `${s.id}: ${s.error?.message}`)).toEqual([]);
  const ns = ctx.config.namespaces;
  world = jobsWorld({
    jobNamespaces: ctx.config.spark.jobNamespaces,
    fakes: ['kind'],
    extraYaml: [
      'namespaces:',
      ...Object.entries(ns).map(([k, v]) => `  ${k}: ${v}`),
      'ports: { airflow: 0, objectStore: 0, objectStoreConsole: 0, gateway: 0 }',
    ].join('\n'),
  });
  tasksDir = path.join(world.project, 'tasks');
  writeTask(tasksDir, 'flask', SEED.service);
  writeTask(tasksDir, 'docs', {
    ...SEED.service,
    name: 'docs',
    labels: 'app:docs',
    'svc-account-secret': '',
    replicas: 2,
    published: {
      prefix: '/docs/',
      rewrite: '/',
      bypass_auth: true,
      sticky_sessions: true,
      timeout_ms: 1500,
      displayed_name: 'Docs',
      visible: false,
    },
  });
}, 300_000);

afterAll(() => {
  process.env.KOALA_HELM = saved;
  for (const ns of ['system', 'spark-operator', 'jobs', 'object-store', 'airflow', 'gateway', 'tasks', 'other'])
    spawnSync(
      'kubectl',
      ['--kubeconfig', testbed().kubeconfig, 'delete', 'namespace', `${prefix}-${ns}`, '--wait=false'],
      {
        stdio: 'ignore',
      },
    );
});

describe('published services through the gateway (test bed API server)', () => {
  it('koala up installed the gateway: its IngressClass, Caddy with no route yet, a Service on port 80', () => {
    // This platform's own class: other tests' platforms share the test bed, each with its own.
    expect(json<{ spec: unknown }>(['get', 'ingressclass', ingressClass]).spec).toEqual({
      controller: 'koala.dev/gateway',
    });
    const deployment = json<{ status: { availableReplicas: number } }>([
      'get',
      'deployment',
      'gateway',
      '-n',
      gatewayNs,
    ]);
    expect(deployment.status.availableReplicas).toBe(1);
    expect([...caddyRoutes().keys()]).toEqual(['/.koala/healthz', '/.koala/services.json', '/', '(any)']);
    expect(json<{ spec: unknown }>(['get', 'service', 'gateway', '-n', gatewayNs]).spec).toMatchObject({
      type: 'ClusterIP',
      ports: [{ name: 'http', port: 80, targetPort: 'http' }],
    });
  });

  it("deploys the documentation's app-flask and a public sticky service; the gateway serves them", async () => {
    const generation = json<{ metadata: { generation: number } }>(['get', 'deployment', 'gateway', '-n', gatewayNs])
      .metadata.generation;
    const r = await koala(world, ['tasks', 'deploy', tasksDir, '-n', namespace, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = jsonDocument('tasks deploy', r.stdout);
    expect(doc.gateway).toEqual({
      served: true,
      base: '',
      routes: [
        { task: 'docs', url: '/docs/' },
        { task: 'app-flask', url: '/app/', access: 'dev' },
      ],
      newGroups: ['dev'],
    });
    expect(
      json<{ metadata: { labels: Record<string, string> } }>(['get', 'namespace', namespace]).metadata.labels,
    ).toMatchObject({ 'koala.dev/gateway-backend': 'true' });

    // The Ingresses, as any ingress user reads them.
    const flask = json<{ metadata: { annotations: Record<string, string> }; spec: unknown }>([
      'get',
      'ingress',
      'app-flask',
      '-n',
      namespace,
    ]);
    expect(flask.spec).toEqual({
      ingressClassName: ingressClass,
      rules: [
        {
          http: {
            paths: [
              { path: '/app', pathType: 'Prefix', backend: { service: { name: 'app-flask', port: { number: 5000 } } } },
            ],
          },
        },
      ],
    });
    expect(flask.metadata.annotations).toMatchObject({
      'gateway.koala.dev/access': 'dev',
      'gateway.koala.dev/bypass-auth': 'false',
      'gateway.koala.dev/timeout-ms': '6000',
    });
    const docs = json<{ metadata: { annotations: Record<string, string> } }>([
      'get',
      'ingress',
      'docs',
      '-n',
      namespace,
    ]);
    expect(docs.metadata.annotations).toMatchObject({
      'gateway.koala.dev/rewrite': '/',
      'gateway.koala.dev/sticky-sessions': 'true',
      'gateway.koala.dev/visible': 'false',
      'gateway.koala.dev/displayed-name': 'Docs',
    });
    expect(
      json<{ spec: { clusterIP: string; selector: unknown } }>(['get', 'service', 'docs-pods', '-n', namespace]).spec,
    ).toMatchObject({ clusterIP: 'None', selector: { app: 'docs' } });

    // The group's credentials: generated, kept in its Secret, the hash Caddy checks is theirs.
    const dev = secretData('gateway-access-dev');
    expect(dev.username).toBe('dev');
    expect(dev.password).toMatch(/^[A-Za-z0-9]{24}$/);
    expect(await bcrypt.compare(dev.password!, dev.bcrypt!)).toBe(true);
    expect(r.stdout + r.stderr).not.toContain(dev.password);

    const routes = caddyRoutes();
    expect(routes.get('/app')).toEqual([
      {
        handler: 'authentication',
        providers: {
          http_basic: {
            accounts: [{ username: 'dev', password: dev.bcrypt }],
            hash: { algorithm: 'bcrypt' },
            hash_cache: {},
            realm: 'koala (dev)',
          },
        },
      },
      {
        handler: 'reverse_proxy',
        upstreams: [{ dial: `app-flask.${namespace}.svc.cluster.local:5000` }],
        headers: { request: { delete: ['Authorization'] } },
        transport: { protocol: 'http', dial_timeout: 6e9, response_header_timeout: 6e9 },
      },
    ]);
    expect(routes.get('/docs')).toEqual([
      { handler: 'rewrite', strip_path_prefix: '/docs' },
      expect.objectContaining({
        handler: 'reverse_proxy',
        dynamic_upstreams: {
          source: 'a',
          name: `docs-pods.${namespace}.svc.cluster.local`,
          port: '5000',
          refresh: 5e9,
        },
        load_balancing: { selection_policy: { policy: 'cookie', name: 'koala_sticky' } },
        transport: { protocol: 'http', dial_timeout: 1.5e9, response_header_timeout: 1.5e9 },
      }),
    ]);
    const listed = JSON.parse(routes.get('/.koala/services.json')![0]!.body as string) as Array<{ path: string }>;
    expect(listed.map((s) => s.path)).toEqual(['/app/']);

    // The new config rolled the gateway: its pod template carries the config's hash.
    const after = json<{
      metadata: { generation: number };
      spec: { template: { metadata: { annotations: Record<string, string> } } };
    }>(['get', 'deployment', 'gateway', '-n', gatewayNs]);
    expect(after.metadata.generation).toBe(generation + 1);
    expect(after.spec.template.metadata.annotations['koala.dev/gateway-config-hash']).toBe(
      configHash(secretData('gateway-config')['caddy.json']!),
    );

    const list = jsonDocument('tasks list', (await koala(world, ['tasks', 'list', '-n', namespace, '--json'])).stdout);
    expect(list.tasks.map((t) => `${t.name} ${t.url ?? ''}`)).toEqual(['app-flask /app/', 'docs /docs/']);
  });

  it('a second deploy writes nothing: not the tasks, not the gateway, not the credentials', async () => {
    const before = writes();
    const r = await koala(world, ['tasks', 'deploy', tasksDir, '-n', namespace, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const doc = jsonDocument('tasks deploy', r.stdout);
    expect(doc.objects.every((o) => o.action === 'unchanged')).toBe(true);
    expect(doc.gateway?.newGroups).toEqual([]);
    expect(before.length).toBeGreaterThanOrEqual(9);
    expect(writes()).toEqual(before);
  });

  it('a prefix another namespace holds is exit 2 naming the file and the field; nothing is made', async () => {
    const other = path.join(world.project, 'other');
    writeTask(other, 'clash', { ...SEED.service, name: 'clash', published: { access: 'ops', prefix: '/app' } });
    const r = await koala(world, ['tasks', 'deploy', other, '-n', `${prefix}-other`]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(path.join(other, 'clash', 'manifest.json'));
    expect(r.stderr).toContain(`published.prefix: /app/ is already published by ${namespace}/app-flask`);
    expect(kubectl(['get', 'namespaces', '-o', 'name'])).not.toContain(`namespace/${prefix}-other`);
    expect(
      spawnSync('kubectl', [
        '--kubeconfig',
        testbed().kubeconfig,
        'get',
        'secret',
        'gateway-access-ops',
        '-n',
        gatewayNs,
      ]).status,
    ).not.toBe(0);
  });

  it('tasks delete takes the Ingress away, and the gateway drops the route; the group keeps its password', async () => {
    const password = secretData('gateway-access-dev').password;
    const r = await koala(world, ['tasks', 'delete', 'app-flask', '-n', namespace]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('ingress/app-flask');
    expect([...caddyRoutes().keys()]).toEqual(['/.koala/healthz', '/.koala/services.json', '/docs', '/', '(any)']);
    expect(secretData('gateway-access-dev').password).toBe(password);
  });
});
