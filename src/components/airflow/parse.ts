import type { V1Pod } from '@kubernetes/client-node';
import type { Kube } from '../../kube/client.ts';
import { mergePatch } from '../../kube/patch.ts';
import { sleep } from '../../kube/watch.ts';
import { importErrors, parsedDags, withAirflowApi, type AirflowApi } from './api.ts';

export { errorLine } from './api.ts';
import { AIRFLOW } from './declaration.ts';

/**
 * What Airflow made of the published DAG files: for each file, the DAGs it defines or the error
 * it failed to import with. Read from Airflow's API, so it is the dag-processor's own verdict,
 * in the cluster's Airflow version with its providers.
 */
export interface DagFileReport {
  /** Relative to the DAG folder, as in dags/. */
  file: string;
  dags: string[];
  /** Airflow's traceback when the file failed to import. */
  error?: string;
}

export interface ParseReport {
  files: DagFileReport[];
  /** Files Airflow had not parsed again when the wait ended. */
  pending: string[];
}

/**
 * The files the dag-processor parses: in safe mode (Airflow's default) it skips a .py file that
 * does not contain both "airflow" and "dag", which keeps helper modules out of the DagBag.
 */
export function dagFiles(files: Record<string, string>): string[] {
  return Object.entries(files)
    .filter(([file, text]) => file.endsWith('.py') && /airflow/i.test(text) && /dag/i.test(text))
    .map(([file]) => file)
    .sort();
}

/**
 * A ConfigMap volume follows its ConfigMap when the kubelet next syncs the pod, which it does
 * about once a minute, or at once when the pod object changes. Marking the Airflow pods with the
 * digest makes the DAG sidecars see a new bundle in seconds.
 */
export async function nudgeDagSidecars(kube: Kube, namespace: string, digest: string): Promise<void> {
  const pods = await kube.list<V1Pod>('v1', 'Pod', { namespace, labelSelector: `release=${AIRFLOW.releases.airflow}` });
  for (const pod of pods) {
    if (!pod.spec?.containers.some((c) => c.name === 'koala-dags') || pod.metadata?.deletionTimestamp) continue;
    await mergePatch(
      kube,
      `/api/v1/namespaces/${namespace}/pods/${pod.metadata!.name!}`,
      { metadata: { annotations: { 'koala.dev/dags-digest': digest } } },
      `Marking pod ${namespace}/${pod.metadata!.name!} with the DAG bundle`,
    ).catch(() => undefined); // a pod that went away meanwhile needs no nudge
  }
}

/** How each file fared, by Airflow's records: parsed at or after `since` counts; anything older is pending. */
export function reportFromApi(
  files: string[],
  errors: Awaited<ReturnType<typeof importErrors>>,
  dags: Awaited<ReturnType<typeof parsedDags>>,
  since: Date | undefined,
): ParseReport {
  const fresh = (at: string | undefined): boolean => since === undefined || (!!at && new Date(at) >= since);
  const sameFile = (reported: string, file: string): boolean => reported === file || reported.endsWith(`/${file}`);
  const report: ParseReport = { files: [], pending: [] };
  for (const file of files) {
    const error = errors.find((e) => sameFile(e.filename, file) && fresh(e.timestamp));
    const defined = dags.filter((d) => sameFile(d.file, file) && fresh(d.lastParsed)).map((d) => d.dagId);
    if (error) report.files.push({ file, dags: defined, error: error.stackTrace });
    else if (defined.length > 0 || since === undefined) report.files.push({ file, dags: defined.sort() });
    else report.pending.push(file);
  }
  return report;
}

/**
 * Waits until Airflow has parsed every DAG file since `since` (the moment the bundle was
 * published), or until the timeout; without `since`, reports Airflow's current records.
 */
export async function dagParseReport(
  kube: Kube,
  namespace: string,
  files: string[],
  options: { since?: Date; timeoutMs: number; signal?: AbortSignal; onWait?: (pending: string[]) => void },
): Promise<ParseReport> {
  const deadline = Date.now() + options.timeoutMs;
  return withAirflowApi(
    kube,
    namespace,
    async (api: AirflowApi) => {
      for (;;) {
        const report = reportFromApi(files, await importErrors(api), await parsedDags(api), options.since);
        if (report.pending.length === 0 || Date.now() > deadline) return report;
        options.onWait?.(report.pending);
        options.signal?.throwIfAborted();
        await sleep(3000, options.signal);
      }
    },
    options.signal,
  );
}

/**
 * After `publishDags`: what Airflow made of the DAG files, or why that could not be asked (no
 * Airflow on this platform, or none ready yet); publishing itself worked either way.
 */
export async function checkDagParse(
  kube: Kube,
  namespace: string,
  published: { changed: boolean; at: Date; dagFiles: string[] },
  options: { timeoutMs: number; signal?: AbortSignal; onWait?: (pending: string[]) => void },
): Promise<{ report?: ParseReport; notChecked?: string }> {
  if (published.dagFiles.length === 0) return { report: { files: [], pending: [] } };
  try {
    const report = await dagParseReport(kube, namespace, published.dagFiles, {
      ...(published.changed ? { since: published.at } : {}),
      ...options,
    });
    return { report };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return { notChecked: error instanceof Error ? error.message : String(error) };
  }
}

/** The hint for DAGs that fail to import: most come from Airflow 2. */
export const IMPORT_ERROR_HINT =
  'Fix the files above and run `koala dags sync` again. DAGs written for Airflow 2 often fail on Airflow 3 ' +
  '(schedule_interval=, airflow.utils.dates, moved operators): ruff checks its Airflow 3 migration rules offline, ' +
  '`ruff check --preview --select AIR3 dags/`, and `ruff check --fix` rewrites much of it.';
