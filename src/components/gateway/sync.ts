import type { V1Secret } from '@kubernetes/client-node';
import type { KoalaConfig } from '../../config/schema.ts';
import type { Kube, Manifest } from '../../kube/client.ts';
import { waitForWorkloads } from '../../kube/readiness.ts';
import { randomString } from '../../orchestration/credentials.ts';
import { registerSecret } from '../../tools/redact.ts';
import { KoalaError } from '../../util/errors.ts';
import { caddyConfig } from './caddy.ts';
import { GATEWAY, ingressClassOf } from './declaration.ts';
import {
  ACCESS_GROUP_LABEL,
  accessSecret,
  configHash,
  configSecret,
  gatewayDeployment,
  gatewayService,
  ingressClass,
} from './objects.ts';
import { pathConflicts, routesOf, type GatewayRoute } from './routes.ts';

/**
 * The gateway's whole state from the cluster: every Ingress of class `koala` becomes a route,
 * every access group they name gets credentials (made once, then kept), and Caddy's config,
 * Deployment and Service are applied where they differ. `koala up` and every deploy or delete
 * of a published task run it, so whichever runs last leaves the gateway serving what is there.
 */

export interface GatewaySync {
  routes: GatewayRoute[];
  /** Ingresses of class koala the gateway does not serve, and why. */
  skipped: string[];
  /** Access groups whose credentials were made now. */
  newGroups: string[];
  /** Objects written (the rest were already as wanted). */
  written: string[];
}

const BCRYPT_COST = 10;

const unb64 = (s: string | undefined): string => Buffer.from(s ?? '', 'base64').toString('utf8');

/** The platform's Ingresses in the whole cluster, as routes; of two on one path, the older is served. */
export async function liveRoutes(
  kube: Kube,
  config: KoalaConfig,
): Promise<{ routes: GatewayRoute[]; skipped: string[] }> {
  const ingresses = await kube.list<Manifest>('networking.k8s.io/v1', 'Ingress');
  // client-node reads creationTimestamp as a Date.
  const created = (o: Manifest): number =>
    new Date((o.metadata as { creationTimestamp?: string | Date }).creationTimestamp ?? 0).getTime();
  const key = (o: Manifest): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
  const byAge = [...ingresses].sort((a, b) => created(a) - created(b) || key(a).localeCompare(key(b)));
  const { routes, skipped } = routesOf(byAge as never, ingressClassOf(config));
  const losers = new Set<string>();
  for (const conflict of pathConflicts(routes))
    for (const name of conflict.routes.slice(1)) {
      losers.add(name);
      skipped.push(`${name}: ${conflict.path} is ${conflict.routes[0]}'s`);
    }
  return { routes: routes.filter((r) => !losers.has(`${r.namespace}/${r.name}`)), skipped };
}

/** Each group's bcrypt hash; a group without credentials gets them now (a generated password). */
async function accessHashes(
  kube: Kube,
  config: KoalaConfig,
  groups: readonly string[],
): Promise<{ hashes: Record<string, string>; created: string[]; secrets: Manifest[] }> {
  const hashes: Record<string, string> = {};
  const created: string[] = [];
  const secrets: Manifest[] = [];
  for (const group of groups) {
    const name = `${GATEWAY.accessSecretPrefix}${group}`;
    const live = await kube.get<V1Secret>({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace: config.namespaces.gateway },
    });
    const hash = unb64(live?.data?.bcrypt);
    if (live && hash.startsWith('$2')) {
      registerSecret(unb64(live.data?.password));
      hashes[group] = hash;
      continue;
    }
    // A Secret of that name that koala did not make is someone's: it is not replaced.
    if (live)
      throw new KoalaError(
        `The Secret ${config.namespaces.gateway}/${name} exists, and it is not the access group's that koala makes`,
        {
          hint:
            `Delete it (koala makes a new one with a generated password), or give it the keys username, ` +
            `password and bcrypt (a bcrypt hash of the password) and the label ${ACCESS_GROUP_LABEL}=${group}.`,
        },
      );
    const { default: bcrypt } = await import('bcryptjs');
    const password = randomString(24);
    registerSecret(password);
    hashes[group] = await bcrypt.hash(password, BCRYPT_COST);
    secrets.push(accessSecret(config, group, password, hashes[group]));
    created.push(group);
  }
  return { hashes, created, secrets };
}

/** The gateway's objects for the routes in the cluster now, and the credentials to create. */
export async function desiredGateway(
  kube: Kube,
  config: KoalaConfig,
  image: string,
): Promise<{ objects: Manifest[]; routes: GatewayRoute[]; skipped: string[]; newGroups: string[] }> {
  const { routes, skipped } = await liveRoutes(kube, config);
  const groups = [...new Set(routes.flatMap((r) => (r.access ? [r.access] : [])))].sort();
  const access = await accessHashes(kube, config, groups);
  const caddyJson = `${JSON.stringify(caddyConfig(routes, access.hashes), null, 2)}\n`;
  const objects: Manifest[] = [
    ingressClass(config),
    ...access.secrets,
    configSecret(config, caddyJson),
    gatewayDeployment(config, image, configHash(caddyJson)),
    gatewayService(config),
  ];
  return { objects, routes, skipped, newGroups: access.created };
}

/** Apply what differs; then, when the pods roll, wait until the new ones serve. */
export async function syncGateway(
  kube: Kube,
  config: KoalaConfig,
  image: string,
  options: { signal?: AbortSignal; report?: (line: string) => void; timeoutMs?: number } = {},
): Promise<GatewaySync> {
  const desired = await desiredGateway(kube, config, image);
  const written: string[] = [];
  for (const object of desired.objects) {
    options.signal?.throwIfAborted();
    if (await kube.isApplied(object)) continue;
    await kube.apply(object);
    written.push(`${object.kind}/${object.metadata.name}`);
  }
  if (written.length > 0)
    await waitForWorkloads(
      kube,
      { namespace: config.namespaces.gateway, labelSelector: GATEWAY.podSelector },
      {
        what: 'the gateway',
        timeoutMs: options.timeoutMs ?? 180_000,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.report ? { onProgress: options.report } : {}),
      },
    );
  return { routes: desired.routes, skipped: desired.skipped, newGroups: desired.newGroups, written };
}

export interface GatewayAccess {
  group: string;
  username: string;
  password: string;
}

/** Every access group's credentials, from their Secrets (for `koala credentials`). */
export async function gatewayAccess(kube: Kube, config: KoalaConfig): Promise<GatewayAccess[]> {
  const secrets = await kube.list<V1Secret>('v1', 'Secret', {
    namespace: config.namespaces.gateway,
    labelSelector: ACCESS_GROUP_LABEL,
  });
  return secrets
    .map((s) => {
      const password = unb64(s.data?.password);
      registerSecret(password);
      return { group: s.metadata!.labels![ACCESS_GROUP_LABEL]!, username: unb64(s.data?.username), password };
    })
    .sort((a, b) => a.group.localeCompare(b.group));
}

/** Is the gateway installed (its Deployment exists)? Deploys of published tasks sync it only then. */
export async function gatewayInstalled(kube: Kube, config: KoalaConfig): Promise<boolean> {
  const live = await kube.get({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: GATEWAY.deployment, namespace: config.namespaces.gateway },
  });
  return live !== undefined;
}
