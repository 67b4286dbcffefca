import { ingressClassOf } from '../components/gateway/declaration.ts';
import { platformNamespaces } from '../components/names.ts';
import type { LoadedConfig } from '../config/load.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import { deliveryFor } from '../jobs/run.ts';
import type { Manifest } from '../kube/client.ts';
import { existingClusterContext } from '../orchestration/contexts.ts';
import {
  clusterPrefixProblems,
  notServed,
  publish,
  throwPrefixProblems,
  treePrefixProblems,
  type TasksGateway,
} from './publish.ts';
import {
  applyObject,
  applyTask,
  ensureNamespace,
  liveTaskObjects,
  loadTasks,
  storageObjects,
  taskImage,
  taskObjects,
  type DeployedObject,
  type TaskImage,
} from './deploy.ts';

/** A platform namespace denies what no rule allows, the gateway's requests included. */
function refusePlatformNamespace(config: LoadedConfig['config'], namespace: string): void {
  if (!platformNamespaces(config).includes(namespace)) return;
  throw new KoalaError(`Published services cannot run in ${namespace}: it is a platform namespace`, {
    exitCode: EXIT.usage,
    hint:
      "Its NetworkPolicies refuse every connection they do not list, the gateway's to a service included. " +
      'Deploy published services to another namespace (the default is tasks) with --namespace.',
  });
}

export interface TasksDeployResult {
  dryRun: boolean;
  namespace: string;
  /** The manifest files, in the order they were deployed. */
  files: string[];
  images: TaskImage[];
  /** What each object went through (empty on a dry run). */
  objects: DeployedObject[];
  /** The objects as they are sent (a dry run's output). */
  manifests: Manifest[];
  namespaceCreated: boolean;
  /** Tasks that asked for the object store (its Secret and ConfigMap are applied for them). */
  storage: string[];
  /** The published services and whether the gateway serves them (absent when none is published). */
  gateway?: TasksGateway;
}

/** Check every manifest, then (unless dryRun) build the images, make the namespace and apply each task. */
export async function deployTasks(
  loaded: LoadedConfig,
  options: { root: string; namespace: string; dryRun: boolean; signal?: AbortSignal; onLine?: (l: string) => void },
): Promise<TasksDeployResult> {
  const tasks = await loadTasks(options.root);
  throwPrefixProblems(treePrefixProblems(tasks));
  const published = tasks.some((t) => t.published);
  if (published) refusePlatformNamespace(loaded.config, options.namespace);
  const ctx = existingClusterContext(loaded);
  const delivery = tasks.some((t) => 'destination' in t.image) ? deliveryFor(ctx, false) : undefined;
  const images: TaskImage[] = [];
  for (const task of tasks) {
    images.push(
      await taskImage(task, delivery!, {
        dryRun: options.dryRun,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onLine ? { onLine: options.onLine } : {}),
      }),
    );
  }
  const ingressClass = ingressClassOf(loaded.config);
  const planned = tasks.map((task, i) => taskObjects(task, options.namespace, images[i]!.image, ingressClass));
  const result: TasksDeployResult = {
    dryRun: options.dryRun,
    namespace: options.namespace,
    files: tasks.map((t) => t.file),
    images,
    objects: [],
    manifests: planned.flat(),
    namespaceCreated: false,
    storage: tasks.filter((t) => t.storage).map((t) => t.name),
  };
  if (options.dryRun) {
    if (published) result.gateway = notServed(loaded.config, tasks, 'dry run');
    return result;
  }
  const kube = await ctx.kube();
  // The storage source is read first: a platform without an object store stops the deploy
  // before anything is made.
  const storage = result.storage.length > 0 ? await storageObjects(kube, loaded.config, options.namespace) : [];
  if (published)
    throwPrefixProblems(await clusterPrefixProblems(kube, loaded.config, tasks, result.manifests, options.namespace));
  result.namespaceCreated = await ensureNamespace(kube, options.namespace, {
    storageClient: storage.length > 0,
    gatewayBackend: published,
  });
  for (const object of storage) {
    const action = await applyObject(kube, object, options.signal);
    result.objects.push({ task: '(storage)', kind: object.kind, name: object.metadata.name, action });
  }
  const live = await liveTaskObjects(kube, options.namespace);
  for (const [i, task] of tasks.entries())
    result.objects.push(...(await applyTask(kube, task, planned[i]!, live, options.signal)));
  // A task that stopped being published lost its Ingress: the gateway drops its route too.
  const routesChanged = result.objects.some((o) => o.kind === 'Ingress' && o.action !== 'unchanged');
  if (published || routesChanged)
    result.gateway = await publish(kube, loaded.config, tasks, options.signal ? { signal: options.signal } : {});
  return result;
}
