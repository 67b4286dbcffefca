import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import ignore from 'ignore';
import type { Kube } from '../../kube/client.ts';
import { mergePatch } from '../../kube/patch.ts';
import { sleep } from '../../kube/watch.ts';
import { importErrors, parsedDags, withAirflowApi, type AirflowApi } from './api.ts';
import { DAGS_FOLDER } from './dags.ts';
import { AIRFLOW } from './declaration.ts';

export { errorLine } from './api.ts';

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
 * does not contain both "airflow" and "dag", which keeps helper modules out of the DagBag. It also
 * skips what an `.airflowignore` matches: each such file holds patterns in .gitignore's syntax
 * (Airflow 3's default `glob` syntax), relative to its own folder, for that folder and below.
 */
export function dagFiles(files: Record<string, string>): string[] {
  const ignorers = Object.entries(files)
    .filter(([file]) => path.posix.basename(file) === '.airflowignore')
    .map(([file, text]) => ({ folder: path.posix.dirname(file), rules: ignore().add(text) }));
  const ignored = (file: string): boolean =>
    ignorers.some(({ folder, rules }) => {
      if (folder !== '.' && !file.startsWith(`${folder}/`)) return false;
      return rules.ignores(folder === '.' ? file : file.slice(folder.length + 1));
    });
  return Object.entries(files)
    .filter(([file, text]) => file.endsWith('.py') && /airflow/i.test(text) && /dag/i.test(text))
    .map(([file]) => file)
    .filter((file) => !ignored(file))
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
    ).catch((error: unknown) => {
      // A pod that went away meanwhile needs no nudge.
      if (!/HTTP 404/.test(String(error))) throw error;
    });
  }
}

/**
 * When the dag-processor's DAG sidecar switched to the bundle `digest`, from its own log line
 * (the cluster's clock, so no skew with Airflow's timestamps); undefined until it has. Airflow
 * parses every file again about every 30 s, so a record from before the switch may be of the old
 * text: only records after it count.
 */
export async function bundleSwitchTime(kube: Kube, namespace: string, digest: string): Promise<Date | undefined> {
  const pods = await kube.list<V1Pod>('v1', 'Pod', {
    namespace,
    labelSelector: `release=${AIRFLOW.releases.airflow},component=dag-processor`,
  });
  for (const pod of pods) {
    if (pod.metadata?.deletionTimestamp || pod.status?.phase !== 'Running') continue;
    const log = `/api/v1/namespaces/${namespace}/pods/${pod.metadata!.name!}/log`;
    const { status, body } = await kube.raw(`${log}?container=koala-dags&timestamps=true&tailLines=100`);
    if (status !== 200) continue;
    const line = body
      .split('\n')
      .reverse()
      .find((l) => l.endsWith(`koala dags: now at ${digest}`));
    if (line) return new Date(line.split(' ')[0]!);
  }
  return undefined;
}

/**
 * How each file fared by Airflow's records since `since`: its DAGs, or its import error. A file
 * with neither is pending: not parsed again yet, or (if it stays so) it defines no DAG.
 */
export function reportFromApi(
  files: string[],
  errors: Awaited<ReturnType<typeof importErrors>>,
  dags: Awaited<ReturnType<typeof parsedDags>>,
  since: Date,
): ParseReport {
  const fresh = (at: string | undefined): boolean => !!at && new Date(at) >= since;
  // Airflow 3 names files relative to the bundle; older records carry the absolute path.
  const sameFile = (reported: string, file: string): boolean =>
    reported === file || reported === `${DAGS_FOLDER}/${file}`;
  const report: ParseReport = { files: [], pending: [] };
  for (const file of files) {
    const error = errors.find((e) => sameFile(e.filename, file) && fresh(e.timestamp));
    const defined = dags.filter((d) => sameFile(d.file, file) && fresh(d.lastParsed)).map((d) => d.dagId);
    if (error) report.files.push({ file, dags: defined.sort(), error: error.stackTrace });
    else if (defined.length > 0) report.files.push({ file, dags: defined.sort() });
    else report.pending.push(file);
  }
  return report;
}

/**
 * Waits until the dag-processor has the bundle `digest` and has parsed every DAG file since, or
 * until the timeout.
 */
export async function dagParseReport(
  kube: Kube,
  namespace: string,
  bundle: { digest: string; dagFiles: string[] },
  options: { timeoutMs: number; signal?: AbortSignal; onWait?: (pending: string[]) => void },
): Promise<ParseReport> {
  const deadline = Date.now() + options.timeoutMs;
  const pause = async (pending: string[]): Promise<void> => {
    options.onWait?.(pending);
    options.signal?.throwIfAborted();
    await sleep(3000, options.signal);
  };
  // Signed in first: an Airflow whose API does not answer fails here at once, not at the deadline.
  return withAirflowApi(
    kube,
    namespace,
    async (api: AirflowApi) => {
      let since: Date | undefined;
      while (!(since = await bundleSwitchTime(kube, namespace, bundle.digest))) {
        if (Date.now() > deadline) return { files: [], pending: bundle.dagFiles };
        await pause(bundle.dagFiles);
      }
      for (;;) {
        const report = reportFromApi(bundle.dagFiles, await importErrors(api), await parsedDags(api), since);
        if (report.pending.length === 0 || Date.now() > deadline) return report;
        await pause(report.pending);
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
  bundle: { digest: string; dagFiles: string[] },
  options: { timeoutMs: number; signal?: AbortSignal; onWait?: (pending: string[]) => void },
): Promise<{ report?: ParseReport; notChecked?: string }> {
  if (bundle.dagFiles.length === 0) return { report: { files: [], pending: [] } };
  try {
    return { report: await dagParseReport(kube, namespace, bundle, options) };
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
