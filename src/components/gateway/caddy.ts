import { GATEWAY } from './declaration.ts';
import type { GatewayRoute } from './routes.ts';

/**
 * Caddy's JSON config for the gateway: one HTTP server, a route per published service (longest
 * prefix first), the listing of the visible ones at /, and 404 for the rest. Pure: the same
 * routes and accounts give the same bytes, so an unchanged deploy writes nothing.
 */

export const HEALTH_PATH = '/.koala/healthz';
export const LISTING_JSON_PATH = '/.koala/services.json';

/** Caddy's durations are nanoseconds. */
const ns = (ms: number): number => ms * 1_000_000;

const text = (status: number, body: string, type = 'text/plain; charset=utf-8') => ({
  handler: 'static_response',
  status_code: status,
  headers: { 'Content-Type': [type] },
  body,
});

/** What a route does with a request: ask for the group's credentials, rewrite the path, proxy. */
function routeHandlers(route: GatewayRoute, accounts: Readonly<Record<string, string>>): unknown[] {
  const steps: unknown[] = [];
  if (route.access !== undefined) {
    const hash = accounts[route.access];
    // No credentials for the group (an Ingress written by hand without one): closed, not open.
    if (!hash) return [text(403, `${route.path}/ needs an access group, and it has none\n`)];
    steps.push({
      handler: 'authentication',
      providers: {
        http_basic: {
          accounts: [{ username: route.access, password: hash }],
          hash: { algorithm: 'bcrypt' },
          // Without it every request pays a bcrypt check (tens of ms of CPU each).
          hash_cache: {},
          realm: `koala (${route.access})`,
        },
      },
    });
  }
  if (route.rewrite !== undefined) {
    steps.push({ handler: 'rewrite', strip_path_prefix: route.path });
    if (route.rewrite !== '') steps.push({ handler: 'rewrite', uri: `${route.rewrite}{http.request.uri}` });
  }
  const { host, port } = route.upstream;
  const headerOps = {
    // The prefix, where it was stripped: apps behind a proxy build their links with it.
    ...(route.rewrite !== undefined ? { set: { 'X-Forwarded-Prefix': [route.path] } } : {}),
    // The group's shared password is the gateway's business, not the service's.
    ...(route.access !== undefined ? { delete: ['Authorization'] } : {}),
  };
  steps.push({
    handler: 'reverse_proxy',
    ...(route.stickySessions
      ? {
          // A headless Service: each pod is an upstream, found again every few seconds.
          dynamic_upstreams: { source: 'a', name: host, port: String(port), refresh: ns(5_000) },
          load_balancing: { selection_policy: { policy: 'cookie', name: 'koala_sticky' } },
        }
      : { upstreams: [{ dial: `${host}:${port}` }] }),
    ...(Object.keys(headerOps).length > 0 ? { headers: { request: headerOps } } : {}),
    transport: {
      protocol: 'http',
      dial_timeout: ns(route.timeoutMs),
      response_header_timeout: ns(route.timeoutMs),
    },
  });
  // Each handler in its own route, so the order above is the order Caddy runs them in.
  return [{ handler: 'subroute', routes: steps.map((handler) => ({ handle: [handler] })) }];
}

export function caddyConfig(
  routes: readonly GatewayRoute[],
  accounts: Readonly<Record<string, string>>,
): Record<string, unknown> {
  const served = routes.map((route) => ({
    match: [{ path: [route.path, `${route.path}/*`] }],
    handle: routeHandlers(route, accounts),
    terminal: true,
  }));
  return {
    // No admin endpoint: the config comes from the mounted Secret, and a new one rolls the pods.
    admin: { disabled: true },
    logging: { logs: { default: { level: 'INFO' } } },
    apps: {
      http: {
        servers: {
          gateway: {
            listen: [`:${GATEWAY.containerPort}`],
            automatic_https: { disable: true },
            routes: [
              { match: [{ path: [HEALTH_PATH] }], handle: [text(200, 'ok\n')], terminal: true },
              {
                match: [{ path: [LISTING_JSON_PATH] }],
                handle: [text(200, `${JSON.stringify(listing(routes), null, 2)}\n`, 'application/json')],
                terminal: true,
              },
              ...served,
              { match: [{ path: ['/'] }], handle: [text(200, listingHtml(routes), 'text/html; charset=utf-8')] },
              { handle: [text(404, 'No service is published under this path; the list is at /\n')] },
            ],
          },
        },
      },
    },
  };
}

export interface ListedService {
  name: string;
  namespace: string;
  displayedName: string;
  icon: string;
  path: string;
  public: boolean;
}

/** The visible services, by displayed name: the gateway's page at / and its JSON twin. Closed ones are not listed. */
export function listing(routes: readonly GatewayRoute[]): ListedService[] {
  return routes
    .filter((r) => r.visible && r.access !== '')
    .map((r) => ({
      name: r.name,
      namespace: r.namespace,
      displayedName: r.displayedName,
      icon: r.icon,
      path: `${r.path}/`,
      public: r.access === undefined,
    }))
    .sort((a, b) => a.displayedName.localeCompare(b.displayedName) || a.path.localeCompare(b.path));
}

const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function listingHtml(routes: readonly GatewayRoute[]): string {
  const items = listing(routes).map((s) => {
    // A Material icon's name is shown as its name (the page loads no icon font); a link is an <img>.
    const icon = /^https?:\/\//.test(s.icon)
      ? `<img src="${escapeHtml(s.icon)}" alt="" width="24" height="24">`
      : `<span class="icon">${escapeHtml(s.icon)}</span>`;
    const lock = s.public ? '' : ' <small>(sign-in)</small>';
    return `    <li>${icon} <a href="${escapeHtml(s.path)}">${escapeHtml(s.displayedName)}</a>${lock}</li>`;
  });
  return [
    '<!doctype html>',
    '<html><head><meta charset="utf-8"><title>koala: published services</title></head>',
    '<body>',
    '  <h1>Published services</h1>',
    items.length > 0
      ? `  <ul>\n${items.join('\n')}\n  </ul>`
      : '  <p>None yet: publish one with koala tasks deploy.</p>',
    '</body></html>',
    '',
  ].join('\n');
}
