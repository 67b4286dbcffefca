/**
 * The gateway as data: a published task's Ingress, the routes read back from Ingresses, Caddy's
 * config for them, and where the allow matrix lets the gateway go. test/integration/gateway-caddy
 * runs this config in the real Caddy; test/process/tasks-gateway deploys it on the test bed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { caddyConfig, listing, LISTING_JSON_PATH } from '../../src/components/gateway/caddy.ts';
import { GATEWAY, ingressClassOf } from '../../src/components/gateway/declaration.ts';
import { configHash, gatewayDeployment, gatewayService, ingressClass } from '../../src/components/gateway/objects.ts';
import {
  ingressFor,
  pathConflicts,
  routesOf,
  type GatewayRoute,
  type PublishedSettings,
} from '../../src/components/gateway/routes.ts';
import { matrixAllows } from '../../src/components/network-policies/matrix.ts';
import { renderPolicies } from '../../src/components/network-policies/render.ts';
import { defaultConfig } from '../../src/config/schema.ts';
import { loadTask } from '../../src/tasks/manifest.ts';
import { treePrefixProblems } from '../../src/tasks/publish.ts';
import { renderTask } from '../../src/tasks/render.ts';
import { SEED } from '../support/datatask-seed.ts';

const settings = (patch: Partial<PublishedSettings> = {}): PublishedSettings => ({
  access: 'dev',
  prefix: '/app/',
  timeoutMs: 6000,
  stickySessions: false,
  bypassAuth: false,
  displayedName: 'app-flask',
  icon: 'import_contacts',
  visible: true,
  ...patch,
});
const ingress = (name: string, patch: Partial<PublishedSettings> = {}, namespace = 'tasks') =>
  ingressFor({
    ingressClass: 'koala',
    name,
    namespace,
    labels: { app: name },
    service: name,
    port: 5000,
    published: settings(patch),
  });

async function seedTask(manifest: unknown) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-gw-'));
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  return loadTask(path.join(dir, 'manifest.json'));
}

type Handler = Record<string, unknown> & { handler: string };
/** The handlers of a route, in the order Caddy runs them. */
function handlersOf(config: Record<string, unknown>, path: string): Handler[] {
  const server = (config as { apps: { http: { servers: { gateway: { routes: Array<Record<string, unknown>> } } } } })
    .apps.http.servers.gateway;
  const route = server.routes.find((r) =>
    (r.match as Array<{ path: string[] }> | undefined)?.[0]?.path.includes(path),
  ) as { handle: Handler[] };
  const [first] = route.handle;
  if (first?.handler !== 'subroute') return route.handle;
  return (first.routes as Array<{ handle: Handler[] }>).flatMap((r) => r.handle);
}

describe('a published task', () => {
  it('app-flask as written: Deployment, Service and an Ingress of class koala to it under /app', async () => {
    const task = await seedTask(SEED.service);
    const objects = renderTask(task, 'tasks', 'quay.io/gilles/flask-team');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Deployment/app-flask',
      'Service/app-flask',
      'Ingress/app-flask',
    ]);
    expect(objects[2]).toMatchObject({
      apiVersion: 'networking.k8s.io/v1',
      metadata: {
        namespace: 'tasks',
        labels: { app: 'flask', 'koala.dev/task': 'app-flask' },
        annotations: {
          'gateway.koala.dev/access': 'dev',
          'gateway.koala.dev/bypass-auth': 'false',
          'gateway.koala.dev/timeout-ms': '6000',
          'gateway.koala.dev/sticky-sessions': 'false',
          'gateway.koala.dev/displayed-name': 'app-flask',
          'gateway.koala.dev/icon': 'import_contacts',
          'gateway.koala.dev/visible': 'true',
        },
      },
      spec: {
        ingressClassName: 'koala',
        rules: [
          {
            http: {
              paths: [
                {
                  path: '/app',
                  pathType: 'Prefix',
                  backend: { service: { name: 'app-flask', port: { number: 5000 } } },
                },
              ],
            },
          },
        ],
      },
    });
    expect(objects[2]!.metadata.annotations).not.toHaveProperty('gateway.koala.dev/rewrite');
  });

  it('sticky sessions add a headless twin of the Service, which the Ingress names', async () => {
    const task = await seedTask({
      ...SEED.service,
      replicas: 2,
      published: { access: 'dev', prefix: '/app/', sticky_sessions: true, rewrite: '/' },
    });
    const objects = renderTask(task, 'tasks', 'img');
    expect(objects.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      'Deployment/app-flask',
      'Service/app-flask',
      'Service/app-flask-pods',
      'Ingress/app-flask',
    ]);
    expect(objects[2]!.spec).toEqual({
      selector: { app: 'flask' },
      ports: [{ name: 'app-port', port: 5000, targetPort: 'app-port', protocol: 'TCP' }],
      clusterIP: 'None',
    });
    const [route] = routesOf([objects[3]!] as never, 'koala').routes;
    expect(route).toMatchObject({
      upstream: { host: 'app-flask-pods.tasks.svc.cluster.local', port: 5000 },
      stickySessions: true,
      rewrite: '',
    });
  });

  it('reads an Ingress back as the route it was written from', () => {
    const { routes } = routesOf(
      [
        ingress('a', { prefix: '/a/', rewrite: '/api/', timeoutMs: 250, displayedName: 'A', icon: 'https://x/i.png' }),
      ] as never,
      'koala',
    );
    expect(routes).toEqual([
      {
        namespace: 'tasks',
        name: 'a',
        path: '/a',
        rewrite: '/api',
        upstream: { host: 'a.tasks.svc.cluster.local', port: 5000 },
        timeoutMs: 250,
        stickySessions: false,
        access: 'dev',
        displayedName: 'A',
        icon: 'https://x/i.png',
        visible: true,
      },
    ]);
  });

  it('serves the longest prefix first, skips Ingresses of other classes and those it cannot serve', () => {
    const other = { ...ingress('nginx'), spec: { ...(ingress('nginx').spec as object), ingressClassName: 'nginx' } };
    const named = ingress('named');
    (
      named.spec as { rules: Array<{ http: { paths: Array<{ backend: unknown }> } }> }
    ).rules[0]!.http.paths[0]!.backend = { service: { name: 'named', port: { name: 'http' } } };
    const { routes, skipped } = routesOf(
      [ingress('app'), ingress('api', { prefix: '/app/api' }), other, named] as never,
      'koala',
    );
    expect(routes.map((r) => r.path)).toEqual(['/app/api', '/app']);
    expect(skipped).toEqual(['tasks/named']);
  });

  it('an Ingress with neither an access group nor bypass-auth is closed, not open', () => {
    const bare = ingress('bare');
    delete bare.metadata.annotations!['gateway.koala.dev/access'];
    const [route] = routesOf([bare] as never, 'koala').routes;
    expect(route!.access).toBe('');
    expect(handlersOf(caddyConfig([route!], { dev: '$2a$10$x' }), '/app')).toEqual([
      expect.objectContaining({ handler: 'static_response', status_code: 403 }),
    ]);
  });

  it("is the platform's own class: koala, or koala-<system namespace> for another platform on the cluster", () => {
    const config = defaultConfig('/tmp');
    expect(ingressClassOf(config)).toBe('koala');
    config.namespaces.system = 'team-b-system';
    expect(ingressClassOf(config)).toBe('koala-team-b-system');
    expect(ingressClass(config).metadata.name).toBe('koala-team-b-system');
    // The other platform's Ingresses are not this one's routes.
    expect(routesOf([ingress('a')] as never, ingressClassOf(config)).routes).toEqual([]);
  });

  it('leaves out what a hand-written Ingress holds that would break the config or a Secret name', () => {
    const { routes, skipped } = routesOf(
      [
        ingress('caps', { access: 'Dev Team' }),
        ingress('odd', { prefix: '/a b/' }),
        ingress('fine', { prefix: '/fine/' }),
      ] as never,
      'koala',
    );
    expect(routes.map((r) => r.name)).toEqual(['fine']);
    expect(skipped).toEqual(['tasks/caps (access group Dev Team)', 'tasks/odd (path /a b)']);
  });

  it('two services on one prefix conflict, whatever the case (Caddy matches paths without it)', async () => {
    expect(
      pathConflicts(routesOf([ingress('a'), ingress('b', { prefix: '/APP' }, 'etl')] as never, 'koala').routes),
    ).toEqual([{ path: '/app', routes: ['tasks/a', 'etl/b'] }]);
    const one = await seedTask(SEED.service);
    const two = await seedTask({ ...SEED.service, name: 'other', published: { access: 'dev', prefix: '/app' } });
    expect(treePrefixProblems([one, two])).toEqual([
      expect.objectContaining({
        source: two.file,
        field: 'published.prefix',
        message: `"/app" is also the prefix of ${one.file}`,
      }),
    ]);
  });
});

describe("the gateway's Caddy config", () => {
  const routes = (...ingresses: ReturnType<typeof ingress>[]): GatewayRoute[] =>
    routesOf(ingresses as never, 'koala').routes;

  it('asks for the group, rewrites, then proxies with the timeout and the prefix passed on', () => {
    const config = caddyConfig(routes(ingress('a', { rewrite: '/v1/', timeoutMs: 1500 })), { dev: '$2a$10$hash' });
    expect(handlersOf(config, '/app')).toEqual([
      {
        handler: 'authentication',
        providers: {
          http_basic: {
            accounts: [{ username: 'dev', password: '$2a$10$hash' }],
            hash: { algorithm: 'bcrypt' },
            hash_cache: {},
            realm: 'koala (dev)',
          },
        },
      },
      { handler: 'rewrite', strip_path_prefix: '/app' },
      { handler: 'rewrite', uri: '/v1{http.request.uri}' },
      {
        handler: 'reverse_proxy',
        upstreams: [{ dial: 'a.tasks.svc.cluster.local:5000' }],
        headers: { request: { set: { 'X-Forwarded-Prefix': ['/app'] }, delete: ['Authorization'] } },
        transport: { protocol: 'http', dial_timeout: 1_500_000_000, response_header_timeout: 1_500_000_000 },
      },
    ]);
  });

  it('bypass_auth has no authentication; sticky sessions pick pods by cookie; no rewrite keeps the path', () => {
    const config = caddyConfig(routes(ingress('open', { bypassAuth: true, stickySessions: true })), {});
    const handlers = handlersOf(config, '/app');
    expect(handlers.map((h) => h.handler)).toEqual(['reverse_proxy']);
    // The path goes on as it is, so no prefix header: an app would put the prefix in its links twice.
    expect(handlers[0]).not.toHaveProperty('headers');
    expect(handlers[0]).toMatchObject({
      dynamic_upstreams: { source: 'a', name: 'open-pods.tasks.svc.cluster.local', port: '5000' },
      load_balancing: { selection_policy: { policy: 'cookie', name: 'koala_sticky' } },
    });
  });

  it('lists the visible services at / and as JSON, with the group they need', () => {
    const rs = routes(
      ingress('b', { prefix: '/b/', displayedName: 'Beta <tools>' }),
      ingress('a', { prefix: '/a/', displayedName: 'Alpha', bypassAuth: true }),
      ingress('hidden', { prefix: '/h/', visible: false }),
    );
    expect(listing(rs)).toEqual([
      { name: 'a', namespace: 'tasks', displayedName: 'Alpha', icon: 'import_contacts', path: '/a/', public: true },
      {
        name: 'b',
        namespace: 'tasks',
        displayedName: 'Beta <tools>',
        icon: 'import_contacts',
        path: '/b/',
        public: false,
      },
    ]);
    const config = caddyConfig(rs, {});
    const [page] = handlersOf(config, '/');
    expect(page!.body).toContain('<a href="/b/">Beta &lt;tools&gt;</a> <small>(sign-in)</small>');
    expect(page!.body).not.toContain('/h/');
    expect(JSON.parse(handlersOf(config, LISTING_JSON_PATH)[0]!.body as string)).toEqual(listing(rs));
  });

  it('the same routes give the same bytes; the pods roll only when they change', () => {
    const a = JSON.stringify(caddyConfig(routes(ingress('a')), { dev: 'h' }));
    const b = JSON.stringify(caddyConfig(routes(ingress('a')), { dev: 'h' }));
    const c = JSON.stringify(caddyConfig(routes(ingress('a', { timeoutMs: 1 })), { dev: 'h' }));
    expect(configHash(a)).toBe(configHash(b));
    expect(configHash(a)).not.toBe(configHash(c));
    const config = defaultConfig('/tmp');
    const template = (
      gatewayDeployment(config, 'caddy:2.11.9', configHash(a)).spec as {
        template: { metadata: { annotations: Record<string, string> } };
      }
    ).template;
    expect(template.metadata.annotations[GATEWAY.configHashAnnotation]).toBe(configHash(a));
  });

  it('is a NodePort on 30800 where the host port is mapped, else a ClusterIP', () => {
    const config = defaultConfig('/tmp');
    expect(gatewayService(config).spec).toMatchObject({ type: 'NodePort', ports: [{ port: 80, nodePort: 30800 }] });
    config.ports.gateway = 0;
    expect(gatewayService(config).spec).toMatchObject({ type: 'ClusterIP', ports: [{ port: 80 }] });
  });
});

describe("the gateway's place in the allow matrix", () => {
  const api = { ips: ['10.96.0.1'], ports: [443] };
  const config = defaultConfig('/tmp');
  const gatewayPod = {
    kind: 'pod' as const,
    namespace: 'gateway',
    labels: { 'app.kubernetes.io/name': 'koala-gateway' },
  };
  const taskPod = (namespaceLabels: Record<string, string>) => ({
    kind: 'pod' as const,
    namespace: 'tasks',
    labels: { app: 'flask' },
    namespaceLabels,
  });

  it('reaches published services, on any port, only in namespaces koala labelled for it', () => {
    const to = taskPod({ [GATEWAY.backendLabel]: 'true' });
    expect(matrixAllows(config, api, { from: gatewayPod, to, port: 5000 })).toBe(true);
    expect(matrixAllows(config, api, { from: gatewayPod, to: taskPod({}), port: 5000 })).toBe(false);
    expect(
      matrixAllows(config, api, {
        from: gatewayPod,
        to: { kind: 'pod', namespace: 'object-store', labels: {} },
        port: 9000,
      }),
    ).toBe(false);
  });

  it('is reached from the host port, and not by other pods', () => {
    expect(matrixAllows(config, api, { from: { kind: 'ip', ip: '172.18.0.3' }, to: gatewayPod, port: 8080 })).toBe(
      true,
    );
    expect(
      matrixAllows(config, api, {
        from: { kind: 'pod', namespace: 'spark-jobs', labels: {} },
        to: gatewayPod,
        port: 8080,
      }),
    ).toBe(false);
  });

  it('renders an egress policy in the gateway namespace to the labelled namespaces', () => {
    const policy = renderPolicies(config, api).find((p) => p.name === 'koala-gateway-to-published-egress');
    expect(policy).toEqual({
      name: 'koala-gateway-to-published-egress',
      namespace: 'gateway',
      why: 'the gateway proxies requests to the published services',
      spec: {
        podSelector: {},
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: { matchLabels: { [GATEWAY.backendLabel]: 'true' } }, podSelector: {} }] }],
      },
    });
  });
});
