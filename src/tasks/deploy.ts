import type { V1ObjectMeta, V1Secret } from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { hashBuildContext } from '../jobs/context-hash.ts';
import { buildAppImage, imageRepository, type Delivery } from '../jobs/image.ts';
import { SECRETS } from '../components/names.ts';
import { GATEWAY } from '../components/gateway/declaration.ts';
import { STORAGE_CLIENT_LABEL } from '../components/object-store/declaration.ts';
import type { KoalaConfig } from '../config/schema.ts';
import type { Kube, Manifest } from '../kube/client.ts';
import { mergePatch } from '../kube/patch.ts';
import { waitGone } from '../kube/wait.ts';
import { ConfigError, EXIT, KoalaError, type ConfigProblem } from '../util/errors.ts';
import { loadTask, MANIFEST_FILE, type Task } from './manifest.ts';
import { renderTask, STORAGE_CONFIGMAP, STORAGE_SECRET, TASK_LABEL } from './render.ts';

/**
 * `koala tasks deploy`: every manifest.json under a folder, checked all together before anything
 * changes, then each task's image built (image-destination) and its objects applied. An object
 * records the hash of what koala sent (`koala.dev/applied-hash`), so an unchanged task costs one
 * read per object and no write. A Job's pod template cannot be changed in place, so a changed
 * Job is deleted and created again; a kind the task no longer has (a job turned cronjob) is
 * deleted.
 */

export const HASH_ANNOTATION = 'koala.dev/applied-hash';
const KINDS = [
  { apiVersion: 'batch/v1', kind: 'Job' },
  { apiVersion: 'batch/v1', kind: 'CronJob' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'v1', kind: 'Service' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress' },
] as const;
const SKIP_DIRS = new Set(['node_modules', '.git', '.venv', '__pycache__']);

export type ObjectAction = 'created' | 'updated' | 'replaced' | 'unchanged' | 'deleted';

export interface DeployedObject {
  task: string;
  kind: string;
  name: string;
  action: ObjectAction;
}

export interface TaskImage {
  task: string;
  image: string;
  /** Built from the task folder (image-destination), or used as written (image-source). */
  built: boolean;
  reason: string;
}

/** The manifest.json files of a task folder, or of every task folder under a tree, sorted. */
export async function findManifests(root: string): Promise<string[]> {
  if (!existsSync(root))
    throw new KoalaError(`${root} does not exist`, {
      exitCode: EXIT.usage,
      hint: 'Give a task folder (with a manifest.json) or a folder of them; `koala new task <name>` makes one.',
    });
  if (existsSync(path.join(root, MANIFEST_FILE))) return [path.join(root, MANIFEST_FILE)];
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || SKIP_DIRS.has(entry.name)) continue;
      const sub = path.join(dir, entry.name);
      if (existsSync(path.join(sub, MANIFEST_FILE))) found.push(path.join(sub, MANIFEST_FILE));
      else await walk(sub);
    }
  };
  await walk(root);
  if (found.length === 0)
    throw new KoalaError(`No ${MANIFEST_FILE} in ${root} or the folders under it`, {
      exitCode: EXIT.usage,
      hint: '`koala new task <name>` makes a task folder with a manifest.json.',
    });
  return found.sort();
}

/** Every task under root, or one ConfigError with every problem of every file: nothing is deployed then. */
export async function loadTasks(root: string): Promise<Task[]> {
  const problems: ConfigProblem[] = [];
  const tasks: Task[] = [];
  for (const file of await findManifests(root)) {
    try {
      tasks.push(await loadTask(file));
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
  }
  const seen = new Map<string, string>();
  for (const task of tasks) {
    const other = seen.get(task.name);
    if (other)
      problems.push({
        source: task.file,
        field: 'name',
        message: `"${task.name}" is also the name of ${other}`,
        accepted: 'a name no other task in the tree has',
      });
    seen.set(task.name, task.file);
  }
  if (problems.length > 0) throw new ConfigError(problems, 'Fix the manifests above; nothing was deployed.');
  return tasks;
}

/** The image a task's pods run; a destination is built and delivered unless dryRun, which only names it. */
export async function taskImage(
  task: Task,
  delivery: Delivery,
  options: { dryRun: boolean; signal?: AbortSignal; onLine?: (line: string) => void },
): Promise<TaskImage> {
  if ('source' in task.image)
    return { task: task.name, image: task.image.source, built: false, reason: 'image-source, used as written' };
  if (options.dryRun) {
    const hash = await hashBuildContext(task.dir, { dockerfile: 'Dockerfile' });
    return {
      task: task.name,
      image: `${imageRepository(task.name, delivery)}:${hash.tag}`,
      built: false,
      reason: `would be built from ${task.dir}`,
    };
  }
  const result = await buildAppImage({
    app: task.name,
    dir: task.dir,
    dockerfile: 'Dockerfile',
    buildArgs: {},
    delivery,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onLine ? { onLine: options.onLine } : {}),
  });
  return { task: task.name, image: result.image, built: result.built, reason: result.reason };
}

/** The objects with the hash of their content recorded on them. */
export function withHash(manifest: Manifest): Manifest {
  const hash = createHash('sha256').update(JSON.stringify(manifest)).digest('hex').slice(0, 16);
  const metadata = manifest.metadata as Manifest['metadata'] & { annotations?: Record<string, string> };
  return { ...manifest, metadata: { ...metadata, annotations: { ...metadata.annotations, [HASH_ANNOTATION]: hash } } };
}

export function taskObjects(task: Task, namespace: string, image: string, ingressClass: string): Manifest[] {
  return renderTask(task, namespace, image, ingressClass).map(withHash);
}

/**
 * Make the namespace when it is missing; one read when it is there. `storageClient` labels it so
 * the object store's NetworkPolicy admits its pods, `gatewayBackend` so the gateway's lets the
 * gateway reach them (a merge patch: the labels others set stay).
 */
export async function ensureNamespace(
  kube: Kube,
  namespace: string,
  options: { storageClient?: boolean; gatewayBackend?: boolean } = {},
): Promise<boolean> {
  const header = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } };
  const clientLabel: Record<string, string> = {
    ...(options.storageClient ? { [STORAGE_CLIENT_LABEL]: 'true' } : {}),
    ...(options.gatewayBackend ? { [GATEWAY.backendLabel]: 'true' } : {}),
  };
  const live = await kube.get<Manifest>(header);
  if (live) {
    if (Object.entries(clientLabel).some(([k, v]) => live.metadata.labels?.[k] !== v)) {
      const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
      await mergePatch(kube, path, { metadata: { labels: clientLabel } }, `Labelling namespace ${namespace}`);
    }
    return false;
  }
  await kube.apply({
    ...header,
    metadata: {
      name: namespace,
      labels: { 'app.kubernetes.io/managed-by': 'koala', 'koala.dev/role': 'tasks', ...clientLabel },
    },
  });
  return true;
}

/**
 * Every object koala made for tasks in a namespace, by "Kind/name": one list per kind, so a
 * deploy where nothing changed costs four reads however many tasks there are.
 */
export async function liveTaskObjects(kube: Kube, namespace: string): Promise<Map<string, Manifest>> {
  const live = new Map<string, Manifest>();
  const lists = await Promise.all(
    KINDS.map(({ apiVersion, kind }) =>
      kube
        .list<Manifest>(apiVersion, kind, { namespace, labelSelector: TASK_LABEL })
        .then((items) => items.map((item) => ({ ...item, apiVersion, kind }))),
    ),
  );
  // Jobs a task's CronJob started carry its labels too; they belong to the CronJob, not the deploy.
  for (const item of lists.flat().filter((i) => !(i.metadata as V1ObjectMeta).ownerReferences?.length))
    live.set(`${item.kind}/${item.metadata.name}`, item);
  return live;
}

/** Apply one task's objects against what is live, and delete the kinds it no longer has. */
export async function applyTask(
  kube: Kube,
  task: Task,
  objects: Manifest[],
  live: ReadonlyMap<string, Manifest>,
  signal?: AbortSignal,
): Promise<DeployedObject[]> {
  const out: DeployedObject[] = [];
  const record = (o: { kind: string; metadata: { name: string } }, action: ObjectAction): void => {
    out.push({ task: task.name, kind: o.kind, name: o.metadata.name, action });
  };
  for (const object of objects)
    record(object, await applyObject(kube, object, signal, live.get(`${object.kind}/${object.metadata.name}`) ?? null));
  const wanted = new Set(objects.map((o) => `${o.kind}/${o.metadata.name}`));
  for (const [key, stale] of live) {
    if (wanted.has(key) || stale.metadata.labels?.[TASK_LABEL] !== task.name) continue;
    await kube.delete(stale);
    record(stale, 'deleted');
  }
  return out;
}

/** One object, by its recorded hash: unchanged (no write), created, updated, or (a Job) replaced. */
export async function applyObject(
  kube: Kube,
  object: Manifest,
  signal?: AbortSignal,
  known?: Manifest | null,
): Promise<ObjectAction> {
  signal?.throwIfAborted();
  // `known`: the live object already read (null: read and absent); otherwise it is read here.
  const live = known === undefined ? await kube.get<Manifest>(object) : (known ?? undefined);
  if (live?.metadata.annotations?.[HASH_ANNOTATION] === object.metadata.annotations?.[HASH_ANNOTATION])
    return 'unchanged';
  if (live && object.kind === 'Job') {
    // A Job's template is immutable: the changed task runs as a new Job of the same name.
    await kube.delete(object);
    await waitGone(kube, object, signal ? { signal } : {});
    await kube.apply(object);
    return 'replaced';
  }
  await kube.apply(object);
  return live ? 'updated' : 'created';
}

/**
 * The object store for tasks that ask for it: the keys and endpoint the platform gave the first
 * Spark job namespace, copied into the task namespace, and the ConfigMap naming the default
 * bucket. Without a platform object store there is nothing to copy, and koala says so.
 */
export async function storageObjects(kube: Kube, config: KoalaConfig, namespace: string): Promise<Manifest[]> {
  const from = {
    namespace: config.spark.jobNamespaces[0]!,
    secret: SECRETS.jobS3,
    bucket: config.objectStore.buckets[0] ?? 'spark-data',
  };
  const source = await kube.get<V1Secret>({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: from.secret, namespace: from.namespace },
  });
  if (!source?.data)
    throw new KoalaError(
      `A task asks for storage, and the object store's Secret ${from.namespace}/${from.secret} does not exist`,
      { hint: 'Run `koala up` (its object-store component makes it), or remove "storage" from the manifest.' },
    );
  const decoded = (key: string): string => Buffer.from(source.data?.[key] ?? '', 'base64').toString('utf8');
  const labels = { 'app.kubernetes.io/managed-by': 'koala' };
  const secret: Manifest = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: STORAGE_SECRET, namespace, labels },
    type: 'Opaque',
    data: { ...source.data },
  };
  const endpoint = decoded('AWS_ENDPOINT_URL');
  const configMap: Manifest = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: STORAGE_CONFIGMAP, namespace, labels },
    data: {
      bucket: from.bucket,
      endpoint,
      region: decoded('AWS_REGION'),
      secretName: STORAGE_SECRET,
      default: `name: ${from.bucket}\nendpoint: ${endpoint}\nsecretName: ${STORAGE_SECRET}\n`,
    },
  };
  // In the Spark job namespace itself the platform's own Secret is already there (koala up owns it).
  if (namespace === from.namespace && from.secret === STORAGE_SECRET) return [configMap];
  return [withHash(secret), withHash(configMap)];
}
