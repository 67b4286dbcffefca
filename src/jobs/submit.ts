import type { V1Deployment } from '@kubernetes/client-node';
import { KubeApiError, type Kube, type Manifest } from '../kube/client.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import type { SparkPlatform } from './spark-platform.ts';
import {
  ANNOTATION_SOURCE,
  LABEL_APP,
  LABEL_RUN_NUMBER,
  POD_LABEL_APP_NAME,
  SPARK_API_VERSION,
  SPARK_KIND,
  type SparkApplication,
} from './render.ts';

export const SPARK_CRD = 'sparkapplications.sparkoperator.k8s.io';
export const TERMINAL_STATES = ['COMPLETED', 'FAILED'] as const;

export function sparkAppsPath(namespace?: string): string {
  return namespace
    ? `/apis/${SPARK_API_VERSION}/namespaces/${namespace}/sparkapplications`
    : `/apis/${SPARK_API_VERSION}/sparkapplications`;
}

export function stateOf(app: SparkApplication): string {
  return app.status?.applicationState?.state || 'NEW';
}

export function isTerminal(state: string): boolean {
  return (TERMINAL_STATES as readonly string[]).includes(state);
}

/**
 * The namespaces the operator really watches: the --namespaces flag of the operator Deployments
 * in its namespace (empty or "" means all), otherwise what koala.yaml says it installed.
 */
export async function watchedNamespaces(
  kube: Kube,
  platform: SparkPlatform,
): Promise<{ namespaces: string[] | 'all'; source: string }> {
  const deployments = await getJson<{ items: V1Deployment[] }>(
    kube,
    `/apis/apps/v1/namespaces/${platform.operatorNamespace}/deployments` +
      `?labelSelector=${encodeURIComponent('app.kubernetes.io/name=spark-operator')}`,
  )
    .then((l) => l?.items ?? [])
    .catch(() => []);
  const watched = new Set<string>();
  const sources: string[] = [];
  for (const deployment of deployments) {
    for (const container of deployment.spec?.template.spec?.containers ?? []) {
      const flag = [...(container.command ?? []), ...(container.args ?? [])].find((a) => a.startsWith('--namespaces='));
      if (flag === undefined) continue;
      const list = flag
        .slice('--namespaces='.length)
        .split(',')
        .map((n) => n.trim());
      const where = `the operator's Deployment ${deployment.metadata?.namespace}/${deployment.metadata?.name}`;
      if (list.every((n) => n === '')) return { namespaces: 'all', source: where };
      list.filter(Boolean).forEach((n) => watched.add(n));
      sources.push(where);
    }
  }
  if (sources.length) return { namespaces: [...watched], source: sources.join(', ') };
  return { namespaces: platform.jobNamespaces, source: 'spark.jobNamespaces in koala.yaml' };
}

/**
 * Everything that would make a submitted run sit forever or fail at once, checked before
 * anything is created: the CRD is installed, the operator watches the namespace, the namespace
 * and the driver's ServiceAccount exist.
 */
export async function preflightSubmit(
  kube: Kube,
  app: SparkApplication,
  platform: SparkPlatform,
  options: { secrets?: boolean } = {},
): Promise<void> {
  const namespace = app.metadata.namespace!;
  const serviceAccount = app.spec.driver?.serviceAccount as string | undefined;
  // Secrets the pods take keys from (the object store's): a missing one would leave them stuck.
  // (`run -f` checks every reference of a manifest itself, with the field that makes it.)
  const sparkConf = (options.secrets === false ? {} : (app.spec.sparkConf ?? {})) as Record<string, string>;
  const secrets = [
    ...new Set(
      Object.entries(sparkConf)
        .filter(([k]) => /^spark\.kubernetes\.(driver|executor)\.secretKeyRef\./.test(k))
        .map(([, v]) => v.split(':')[0]!),
    ),
  ];
  // Independent reads, all at once.
  const [crd, watched, ns, sa, ...found] = await Promise.all([
    // Only its metadata: the CRD with its schema is about a megabyte of JSON.
    getJson(kube, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${SPARK_CRD}`, METADATA_ONLY),
    watchedNamespaces(kube, platform),
    getJson(kube, `/api/v1/namespaces/${namespace}`),
    serviceAccount
      ? getJson(kube, `/api/v1/namespaces/${namespace}/serviceaccounts/${serviceAccount}`)
      : Promise.resolve({}),
    ...secrets.map((name) => getJson(kube, `/api/v1/namespaces/${namespace}/secrets/${name}`)),
  ]);
  if (!crd) {
    throw new KoalaError(`The SparkApplication CRD (${SPARK_CRD}) is not installed`, {
      hint: 'Install the Spark operator with `koala up` (or `koala up --only spark-operator`).',
    });
  }
  if (watched.namespaces !== 'all' && !watched.namespaces.includes(namespace)) {
    const watching = `${watched.namespaces.join(', ') || 'none'}, per ${watched.source}`;
    throw new KoalaError(
      `The Spark operator does not watch namespace "${namespace}" (it watches: ${watching}); ` +
        'a run there would never start',
      {
        exitCode: EXIT.usage,
        hint:
          `Run it in a watched namespace (--namespace ${watched.namespaces[0] ?? '<ns>'}), ` +
          `or add "${namespace}" to spark.jobNamespaces in koala.yaml and run \`koala up\`.`,
      },
    );
  }
  if (!ns) {
    throw new KoalaError(`Namespace "${namespace}" does not exist`, {
      exitCode: EXIT.usage,
      hint: 'Run `koala up`: it creates the job namespaces listed in spark.jobNamespaces.',
    });
  }
  if (serviceAccount && !sa) {
    throw new KoalaError(
      `The driver's ServiceAccount "${serviceAccount}" does not exist in namespace "${namespace}"; ` +
        'spark-submit would fail to create the driver',
      {
        exitCode: EXIT.usage,
        hint:
          `The operator's chart creates "${platform.serviceAccount}" in every job namespace: ` +
          `use --service-account ${platform.serviceAccount}, or fix spec.driver.serviceAccount.`,
      },
    );
  }
  const missing = secrets.filter((_, i) => !found[i]);
  if (missing.length) {
    throw new KoalaError(
      `Secret ${missing.join(', ')} does not exist in namespace "${namespace}"; ` +
        "the driver and executors take the object store's keys from it",
      {
        hint:
          'Run `koala up` (the object-store component creates it in every job namespace), ' +
          'or set `objectStore: false` in spark-app.yaml if the app does not use it.',
      },
    );
  }
}

/**
 * Create the run. First a server-side dry run: the API server validates it against the
 * installed CRD's schema, so a typo is an error naming the field, and nothing is created.
 */
export async function submitRun(
  kube: Kube,
  app: SparkApplication,
  options: { dryRunOnly?: boolean; companions?: Manifest[] } = {},
): Promise<SparkApplication> {
  const path = sparkAppsPath(app.metadata.namespace);
  const companions = options.companions ?? [];
  for (const dryRun of options.dryRunOnly ? [true] : [true, false]) {
    // The ConfigMaps and Secrets of the file go first: the driver mounts them as it starts.
    // All are dry-run before anything is written, so a rejected one changes nothing.
    for (const companion of companions) await applyCompanion(kube, companion, dryRun);
    const { status, body } = await kube.raw(
      `${path}?fieldManager=koala&fieldValidation=Strict${dryRun ? '&dryRun=All' : ''}`,
      {
        method: 'POST',
        body: JSON.stringify(app),
        headers: { 'Content-Type': 'application/json' },
      },
    );
    if (status === 409)
      throw new KoalaError(`A run named ${app.metadata.name} already exists in ${app.metadata.namespace}`, {
        hint: 'Run the command again: koala picks the next free run number.',
      });
    if (status === 422 || status === 400) {
      throw new KoalaError(`The SparkApplication is not valid for the installed CRD:\n${invalidFields(body)}`, {
        exitCode: EXIT.usage,
        hint: 'Fix the fields above (in spark-app.yaml or the manifest); nothing was submitted.',
      });
    }
    if (status < 200 || status >= 300)
      throw new KubeApiError(status, `create ${SPARK_KIND} ${app.metadata.namespace}/${app.metadata.name}`, body);
    if (!dryRun || options.dryRunOnly) return JSON.parse(body) as SparkApplication;
  }
  throw new Error('unreachable');
}

async function applyCompanion(kube: Kube, companion: Manifest, dryRun: boolean): Promise<void> {
  try {
    await kube.apply(companion, { dryRun });
  } catch (error) {
    if (error instanceof KubeApiError && (error.status === 422 || error.status === 400)) {
      throw new KoalaError(`${companion.kind} ${companion.metadata.name} is not valid:\n${invalidFields(error.body)}`, {
        exitCode: EXIT.usage,
        hint: `Fix it in the manifest file; ${dryRun ? 'nothing was submitted' : 'the run was not created'}.`,
      });
    }
    throw error;
  }
}

/** The API server's field errors, one per line. */
function invalidFields(body: string): string {
  try {
    const parsed = JSON.parse(body) as {
      message?: string;
      details?: { causes?: Array<{ field?: string; message?: string }> };
    };
    const causes = parsed.details?.causes ?? [];
    if (causes.length) return causes.map((c) => `  ${c.field ?? '(object)'}: ${c.message ?? ''}`).join('\n');
    return `  ${parsed.message ?? body}`;
  } catch {
    return `  ${body}`;
  }
}

const METADATA_ONLY = { Accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json' };

/** GET a path; undefined when it does not exist (404). */
async function getJson<T = unknown>(
  kube: Kube,
  path: string,
  headers?: Record<string, string>,
): Promise<T | undefined> {
  const { status, body } = await kube.raw(path, headers ? { headers } : {});
  if (status === 404) return undefined;
  if (status < 200 || status >= 300) throw new KubeApiError(status, `GET ${path}`, body);
  return JSON.parse(body) as T;
}

/** Every run of an app in a namespace, newest first. */
export async function listRuns(
  kube: Kube,
  options: { namespace?: string; app?: string } = {},
): Promise<SparkApplication[]> {
  const query = options.app ? `?labelSelector=${encodeURIComponent(`${LABEL_APP}=${options.app}`)}` : '';
  const items =
    (await getJson<{ items: SparkApplication[] }>(kube, `${sparkAppsPath(options.namespace)}${query}`))?.items ?? [];
  return items.sort((a, b) => runNumber(b) - runNumber(a) || createdAt(b) - createdAt(a));
}

/** Creation time in ms (the typed client gives a Date, raw JSON a string). */
export function createdAt(o: { metadata: { creationTimestamp?: Date | string } }): number {
  return o.metadata.creationTimestamp ? new Date(o.metadata.creationTimestamp).getTime() : 0;
}

export function runNumber(app: SparkApplication): number {
  return Number(app.metadata.labels?.[LABEL_RUN_NUMBER] ?? 0) || 0;
}

export async function nextRunNumber(kube: Kube, namespace: string, app: string): Promise<number> {
  // Pods of a deleted run may still be terminating: never reuse a run name they still carry,
  // or a new run would be confused with their leftovers.
  const [runs, pods] = await Promise.all([
    listRuns(kube, { namespace, app }),
    getJson<{ items: Array<{ metadata?: { labels?: Record<string, string> } }> }>(
      kube,
      `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(POD_LABEL_APP_NAME)}`,
    ),
  ]);
  const pattern = new RegExp(`^${app.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d+)$`);
  const leftovers = (pods?.items ?? []).map((p) =>
    Number(pattern.exec(p.metadata?.labels?.[POD_LABEL_APP_NAME] ?? '')?.[1] ?? 0),
  );
  return Math.max(0, ...runs.map(runNumber), ...leftovers) + 1;
}

/** The files, other than `source`, whose runs carry the same app name in this namespace. */
export async function otherSources(kube: Kube, namespace: string, app: string, source: string): Promise<string[]> {
  const runs = await listRuns(kube, { namespace, app });
  const sources = runs.map((r) => r.metadata.annotations?.[ANNOTATION_SOURCE]);
  return [...new Set(sources.filter((s): s is string => Boolean(s) && s !== source))];
}

/**
 * Keep the newest `keep` finished runs, delete older finished ones (their pods go with them).
 * Only runs of the same source file count: another file whose app has the same name keeps its own.
 */
export async function pruneRuns(
  kube: Kube,
  namespace: string,
  app: string,
  keep: number,
  source?: string,
): Promise<string[]> {
  // A run without the annotation predates it: it counts as this file's.
  const sameSource = (r: SparkApplication): boolean =>
    (r.metadata.annotations?.[ANNOTATION_SOURCE] ?? source) === source;
  const runs = (await listRuns(kube, { namespace, app })).filter((r) => source === undefined || sameSource(r));
  const old = runs.filter((r) => isTerminal(stateOf(r))).slice(keep);
  for (const run of old)
    await kube.delete({
      apiVersion: SPARK_API_VERSION,
      kind: SPARK_KIND,
      metadata: { name: run.metadata.name, namespace },
    });
  return old.map((r) => r.metadata.name);
}
