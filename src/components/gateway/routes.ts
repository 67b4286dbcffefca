import type { Manifest } from '../../kube/client.ts';

/**
 * A published service as the gateway serves it, and the Ingress that records it in the cluster.
 * The Ingress is standard (class `koala`, one Prefix path to the Service); what Ingress has no
 * field for (access group, rewrite, timeout, sticky sessions, the listing's name and icon) is in
 * annotations under gateway.koala.dev/, as ingress controllers keep their own settings.
 */

export interface PublishedSettings {
  access?: string;
  prefix: string;
  rewrite?: string;
  timeoutMs: number;
  stickySessions: boolean;
  bypassAuth: boolean;
  displayedName: string;
  icon: string;
  visible: boolean;
}

export interface GatewayRoute {
  /** The task's namespace and name (its Ingress). */
  namespace: string;
  name: string;
  /** The prefix without its trailing slash: /app matches /app and /app/…. */
  path: string;
  /** What replaces `path` before the request goes on ("" strips it); unset: the path is passed as it is. */
  rewrite?: string;
  /** The Service to proxy to, by its cluster DNS name. */
  upstream: { host: string; port: number };
  timeoutMs: number;
  /** The Service is headless and the gateway picks a pod, kept per client by a cookie. */
  stickySessions: boolean;
  /** The group whose credentials are asked for; unset with bypass_auth. */
  access?: string;
  displayedName: string;
  icon: string;
  visible: boolean;
}

const A = 'gateway.koala.dev/';
export const ROUTE_ANNOTATIONS = {
  access: `${A}access`,
  bypassAuth: `${A}bypass-auth`,
  rewrite: `${A}rewrite`,
  timeoutMs: `${A}timeout-ms`,
  stickySessions: `${A}sticky-sessions`,
  displayedName: `${A}displayed-name`,
  icon: `${A}icon`,
  visible: `${A}visible`,
} as const;

/** What the gateway takes as a path, and as an access group (the group names its Secret). */
const PATH = /^(\/[\w.~-]+)+\/?$|^\/$/;
export const GROUP = /^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$/;

/** "/app/" → "/app"; a rewrite of "/" → "" (the prefix is stripped). */
export const trimSlash = (p: string): string => p.replace(/\/+$/, '');

/** The headless Service a sticky published service adds, so the gateway sees each pod. */
export const podsServiceName = (service: string): string => `${service}-pods`;

/** The Ingress of a published service: its prefix to the Service (the headless one when sticky). */
export function ingressFor(options: {
  /** The platform's Ingress class (ingressClassOf). */
  ingressClass: string;
  name: string;
  namespace: string;
  labels: Record<string, string>;
  service: string;
  port: number;
  published: PublishedSettings;
}): Manifest {
  const p = options.published;
  const annotations: Record<string, string> = {
    [ROUTE_ANNOTATIONS.bypassAuth]: String(p.bypassAuth),
    [ROUTE_ANNOTATIONS.timeoutMs]: String(p.timeoutMs),
    [ROUTE_ANNOTATIONS.stickySessions]: String(p.stickySessions),
    [ROUTE_ANNOTATIONS.displayedName]: p.displayedName,
    [ROUTE_ANNOTATIONS.icon]: p.icon,
    [ROUTE_ANNOTATIONS.visible]: String(p.visible),
    ...(p.access && !p.bypassAuth ? { [ROUTE_ANNOTATIONS.access]: p.access } : {}),
    ...(p.rewrite !== undefined ? { [ROUTE_ANNOTATIONS.rewrite]: p.rewrite } : {}),
  };
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: options.name, namespace: options.namespace, labels: options.labels, annotations },
    spec: {
      ingressClassName: options.ingressClass,
      rules: [
        {
          http: {
            paths: [
              {
                path: trimSlash(p.prefix),
                pathType: 'Prefix',
                backend: {
                  service: {
                    name: p.stickySessions ? podsServiceName(options.service) : options.service,
                    port: { number: options.port },
                  },
                },
              },
            ],
          },
        },
      ],
    },
  };
}

interface IngressLike {
  metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> };
  spec?: {
    ingressClassName?: string;
    rules?: Array<{
      http?: {
        paths?: Array<{ path?: string; backend?: { service?: { name?: string; port?: { number?: number } } } }>;
      };
    }>;
  };
}

/**
 * The routes of the Ingresses of the platform's class, longest path first (so /app/api wins over
 * /app). An Ingress koala cannot serve (no path, a named port) is left out and named in `skipped`.
 */
export function routesOf(
  ingresses: readonly IngressLike[],
  ingressClass: string,
): { routes: GatewayRoute[]; skipped: string[] } {
  const routes: GatewayRoute[] = [];
  const skipped: string[] = [];
  for (const ingress of ingresses) {
    if (ingress.spec?.ingressClassName !== ingressClass) continue;
    const namespace = ingress.metadata?.namespace ?? 'default';
    const name = ingress.metadata?.name ?? '';
    const a = ingress.metadata?.annotations ?? {};
    const path = ingress.spec.rules?.[0]?.http?.paths?.[0];
    const service = path?.backend?.service;
    if (!path?.path || !service?.name || !service.port?.number) {
      skipped.push(`${namespace}/${name}`);
      continue;
    }
    const rewrite = a[ROUTE_ANNOTATIONS.rewrite];
    const bypassAuth = a[ROUTE_ANNOTATIONS.bypassAuth] === 'true';
    const access = a[ROUTE_ANNOTATIONS.access];
    // An Ingress written by hand may hold anything: what would break the config or a Secret's name is left out.
    const bad = [
      !PATH.test(path.path) && `path ${path.path}`,
      rewrite !== undefined && !PATH.test(trimSlash(rewrite) || '/') && `rewrite ${rewrite}`,
      access !== undefined && !GROUP.test(access) && `access group ${access}`,
    ].filter(Boolean);
    if (bad.length > 0) {
      skipped.push(`${namespace}/${name} (${bad.join(', ')})`);
      continue;
    }
    routes.push({
      namespace,
      name,
      path: trimSlash(path.path),
      ...(rewrite !== undefined ? { rewrite: trimSlash(rewrite) } : {}),
      upstream: { host: `${service.name}.${namespace}.svc.cluster.local`, port: service.port.number },
      timeoutMs: Number(a[ROUTE_ANNOTATIONS.timeoutMs] ?? 6000) || 6000,
      stickySessions: a[ROUTE_ANNOTATIONS.stickySessions] === 'true',
      // An Ingress with neither an access group nor bypass-auth is closed to everyone, not open.
      ...(bypassAuth ? {} : { access: access ?? '' }),
      displayedName: a[ROUTE_ANNOTATIONS.displayedName] ?? name,
      icon: a[ROUTE_ANNOTATIONS.icon] ?? 'import_contacts',
      visible: a[ROUTE_ANNOTATIONS.visible] !== 'false',
    });
  }
  routes.sort((x, y) => y.path.length - x.path.length || x.path.localeCompare(y.path));
  return { routes, skipped };
}

/** Routes that claim the same path: the gateway can serve only one of each. */
export function pathConflicts(routes: readonly GatewayRoute[]): Array<{ path: string; routes: string[] }> {
  const byPath = new Map<string, string[]>();
  // Caddy matches paths without regard to case.
  for (const r of routes) {
    const key = r.path.toLowerCase();
    byPath.set(key, [...(byPath.get(key) ?? []), `${r.namespace}/${r.name}`]);
  }
  return [...byPath].filter(([, names]) => names.length > 1).map(([path, names]) => ({ path, routes: names }));
}
