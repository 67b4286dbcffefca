import { gatewayBase, ingressClassOf } from '../components/gateway/declaration.ts';
import { gatewayEnabled, gatewayImage } from '../components/gateway/index.ts';
import { pathConflicts, routesOf, trimSlash } from '../components/gateway/routes.ts';
import { gatewayInstalled, liveRoutes, syncGateway } from '../components/gateway/sync.ts';
import type { KoalaConfig } from '../config/schema.ts';
import type { Kube, Manifest } from '../kube/client.ts';
import { ConfigError, type ConfigProblem } from '../util/errors.ts';
import type { Task } from './manifest.ts';

/**
 * Published services (`published` in a manifest) reach users through the platform's gateway: a
 * deploy checks that no other service holds a task's prefix before anything changes, and once the
 * Ingresses are applied, has the gateway serve them.
 */

export interface TasksGateway {
  /** The gateway serves the routes below now; false when it is off or not installed yet. */
  served: boolean;
  /** Where the routes are: http://127.0.0.1:<ports.gateway>; "" with no host port (`koala port-forward gateway`). */
  base: string;
  routes: Array<{ task: string; url: string; access?: string }>;
  /** Access groups whose credentials were made by this deploy (`koala credentials` shows them). */
  newGroups: string[];
  /** Why the routes are not served yet, and what to do. */
  note?: string;
}

/** Two tasks of the tree on one prefix: the gateway can serve one. */
export function treePrefixProblems(tasks: readonly Task[]): ConfigProblem[] {
  const seen = new Map<string, Task>();
  const problems: ConfigProblem[] = [];
  for (const task of tasks) {
    if (!task.published) continue;
    const key = trimSlash(task.published.prefix).toLowerCase();
    const other = seen.get(key);
    if (other)
      problems.push({
        source: task.file,
        field: 'published.prefix',
        message: `"${task.published.prefix}" is also the prefix of ${other.file}`,
        accepted: 'a prefix no other published service uses',
      });
    else seen.set(key, task);
  }
  return problems;
}

/** A task's prefix that a service elsewhere in the cluster already holds: exit 2, nothing deployed. */
export async function clusterPrefixProblems(
  kube: Kube,
  config: KoalaConfig,
  tasks: readonly Task[],
  planned: readonly Manifest[],
  namespace: string,
): Promise<ConfigProblem[]> {
  const mine = new Set(tasks.map((t) => `${namespace}/${t.name}`));
  const others = (await liveRoutes(kube, config)).routes.filter((r) => !mine.has(`${r.namespace}/${r.name}`));
  const ours = routesOf(planned.filter((m) => m.kind === 'Ingress') as never, ingressClassOf(config)).routes;
  return pathConflicts([...others, ...ours]).flatMap((conflict) => {
    const holder = conflict.routes.find((r) => !mine.has(r)) ?? conflict.routes[0]!;
    return conflict.routes
      .filter((r) => mine.has(r))
      .map((r) => ({
        source: tasks.find((t) => `${namespace}/${t.name}` === r)!.file,
        field: 'published.prefix',
        message: `${conflict.path}/ is already published by ${holder}`,
        accepted: 'a prefix no other published service uses (`koala tasks list --namespace <ns>` shows them)',
      }));
  });
}

export function throwPrefixProblems(problems: ConfigProblem[]): void {
  if (problems.length > 0) throw new ConfigError(problems, 'Choose another prefix; nothing was deployed.');
}

/** Have the gateway serve the cluster's published services, when it is on and installed. */
export async function publish(
  kube: Kube,
  config: KoalaConfig,
  tasks: readonly Task[],
  options: { signal?: AbortSignal } = {},
): Promise<TasksGateway> {
  const off = (note: string): TasksGateway => notServed(config, tasks, note);
  if (!gatewayEnabled(config))
    return off('components.gateway is off in koala.yaml: the Ingresses are there for another gateway to serve');
  if (!(await gatewayInstalled(kube, config)))
    return off('the gateway is not installed yet: `koala up` installs it and serves these routes');
  const synced = await syncGateway(kube, config, await gatewayImage(config), options);
  return { ...notServed(config, tasks, ''), served: true, newGroups: synced.newGroups };
}

/** The tasks' routes, not (yet) served: a dry run, or a platform without the gateway. */
export function notServed(config: KoalaConfig, tasks: readonly Task[], note: string): TasksGateway {
  const base = gatewayBase(config);
  const routes = tasks.flatMap((t) =>
    t.published
      ? [
          {
            task: t.name,
            url: `${base}${trimSlash(t.published.prefix)}/`,
            ...(t.published.bypassAuth || !t.published.access ? {} : { access: t.published.access }),
          },
        ]
      : [],
  );
  return { served: false, base, routes, newGroups: [], ...(note ? { note } : {}) };
}

/** After a delete: the gateway drops the routes that went with it. */
export async function unpublish(kube: Kube, config: KoalaConfig): Promise<void> {
  if (gatewayEnabled(config) && (await gatewayInstalled(kube, config)))
    await syncGateway(kube, config, await gatewayImage(config));
}
