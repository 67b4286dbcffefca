import type { UpStepId } from '../../orchestration/up-order.ts';
import type { V1ConfigMap, V1Job, V1StatefulSet } from '@kubernetes/client-node';
import { imageFor } from '../../charts/images.ts';
import { chartFor, loadPins } from '../../charts/pins.ts';
import type { Step } from '../../engine/step.ts';
import type { Kube } from '../../kube/client.ts';
import { jobOutcome, namedWorkloadsReadiness, statefulSetReady, waitForWorkloads } from '../../kube/readiness.ts';
import type { PlatformContext } from '../../orchestration/context.ts';
import type { Component } from '../component.ts';
import { errorMessage } from '../../util/errors.ts';
import { AIRFLOW } from './declaration.ts';
import { maskedCredentials, platformCredentials } from '../foundation/index.ts';
import { POSTGRES, RELEASES, SECRETS } from '../names.ts';
import {
  pinnedChart,
  platformChart,
  releaseFreshness,
  releaseStep,
  withOverrides,
  type ReleaseDef,
} from '../release.ts';
import { dagsConfigMap, dagsDirectory, readDagBundle } from './dags.ts';
import { dagFiles, errorLine, IMPORT_ERROR_HINT, nudgeDagSidecars } from './parse.ts';
import { importErrors, withAirflowApi } from './api.ts';
import { AIRFLOW_JOBS, airflowValues } from './values.ts';

/**
 * Airflow from the official chart, with its Postgres (a section of koala's chart) and its
 * DAGs (a ConfigMap from the project's dags/ folder): three steps, so a failed Airflow can be
 * retried alone with `koala up --only airflow`.
 */

export const COMPONENT_ID = AIRFLOW.id satisfies UpStepId;
/** The chart's workloads (Deployments, or StatefulSets with persistence): all must be ready. */
export const AIRFLOW_WORKLOADS = ['api-server', 'scheduler', 'dag-processor', 'triggerer'].map(
  (c) => `${RELEASES.airflow}-${c}`,
);

export function postgresRelease(ctx: PlatformContext): ReleaseDef {
  const values = async (): Promise<Record<string, unknown>> => ({
    chartDigest: (await platformChart()).digest,
    sections: { postgres: true },
    postgres: {
      name: POSTGRES.name,
      namespace: ctx.config.namespaces.airflow,
      image: imageFor(ctx.config, await loadPins(), 'postgres'),
      secretName: SECRETS.airflowPostgres,
      database: POSTGRES.database,
      user: POSTGRES.user,
      storage: '2Gi',
      resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    },
  });
  return {
    release: RELEASES.postgres,
    namespace: ctx.config.namespaces.system,
    chart: platformChart,
    values,
    timeoutSeconds: 300,
    progressNamespace: ctx.config.namespaces.airflow,
  };
}

export function airflowRelease(ctx: PlatformContext): ReleaseDef {
  const namespace = ctx.config.namespaces.airflow;
  return {
    release: RELEASES.airflow,
    namespace,
    chart: async () => pinnedChart(ctx, chartFor(await loadPins(), 'airflow', ctx.config, COMPONENT_ID)),
    values: async () =>
      withOverrides(
        ctx,
        COMPONENT_ID,
        airflowValues(ctx.config, await loadPins(), (await platformCredentials(ctx)).credentials),
      ),
    planValues: async () =>
      withOverrides(ctx, COMPONENT_ID, airflowValues(ctx.config, await loadPins(), maskedCredentials())),
    timeoutSeconds: ctx.config.timeouts.componentSeconds,
    progressNamespace: namespace,
    // With Helm hooks off, the chart's Jobs are plain objects, and a Job's pod template cannot
    // change: remove the finished ones so the upgrade can create them anew.
    async beforeUpgrade(kube: Kube, { report }) {
      for (const name of AIRFLOW_JOBS) {
        const job = await kube.get<V1Job>({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace } });
        if (job && jobOutcome(job) !== 'running') {
          report(`removing the finished Job ${name} before the upgrade`);
          await kube.delete({ apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace } });
        }
      }
    },
  };
}

async function postgresReadiness(kube: Kube, namespace: string): Promise<{ ready: boolean; detail: string }> {
  const sts = await kube.get<V1StatefulSet>({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: POSTGRES.name, namespace },
  });
  return sts && statefulSetReady(sts)
    ? { ready: true, detail: 'postgres ready' }
    : { ready: false, detail: 'postgres not ready' };
}

function dagsStep(ctx: PlatformContext): Step {
  const dir = dagsDirectory(ctx.config);
  return {
    id: 'airflow-dags' satisfies UpStepId,
    title: `Publish the DAGs from ${ctx.config.airflow.dagsDir}/`,
    plan: async () => [
      {
        kind: 'manifest',
        manifest: {
          ...dagsConfigMap(ctx.config, await readDagBundle(dir)),
          data: { 'dags.json': '<the DAG folder as JSON>' },
        },
      },
    ],
    async check() {
      const bundle = await readDagBundle(dir);
      const done = await (await ctx.kube()).isApplied(dagsConfigMap(ctx.config, bundle));
      return done
        ? { done: true, detail: `${Object.keys(bundle.files).length} files, ${bundle.digest}` }
        : { done: false, reason: 'the DAG folder changed' };
    },
    async run() {
      return syncDags(ctx);
    },
  };
}

export interface PublishedDags {
  detail: string;
  /** The bundle's digest, which the DAG sidecars log when they switch to it. */
  digest: string;
  /** The files Airflow parses for DAGs (dagFiles). */
  dagFiles: string[];
}

/**
 * `koala dags sync` and the airflow-dags step: one server-side apply of the ConfigMap, then a
 * nudge so the Airflow pods' sidecars see it at once.
 */
export async function publishDags(ctx: PlatformContext): Promise<PublishedDags> {
  const bundle = await readDagBundle(dagsDirectory(ctx.config));
  const kube = await ctx.kube();
  const manifest = dagsConfigMap(ctx.config, bundle);
  const live = await kube.get<V1ConfigMap>(manifest);
  const count = Object.keys(bundle.files).length;
  const published = { digest: bundle.digest, dagFiles: dagFiles(bundle.files) };
  if (live?.metadata?.annotations?.['koala.dev/dags-digest'] === bundle.digest)
    return { detail: `${count} files, unchanged (${bundle.digest})`, ...published };
  await kube.apply(manifest);
  await nudgeDagSidecars(kube, ctx.config.namespaces.airflow, bundle.digest);
  return { detail: `${count} files published (${bundle.digest})`, ...published };
}

export async function syncDags(ctx: PlatformContext): Promise<string> {
  return (await publishDags(ctx)).detail;
}

export const airflow: Component = {
  ...AIRFLOW,
  title: 'Airflow',
  enabled: (config) => config.components[COMPONENT_ID]?.enabled !== false,
  steps(ctx) {
    const namespace = ctx.config.namespaces.airflow;
    return [
      releaseStep(ctx, {
        id: 'airflow-postgres',
        title: `Install Airflow's Postgres in ${namespace}`,
        def: postgresRelease(ctx),
        readiness: {
          check: (kube) => postgresReadiness(kube, namespace),
          wait: (kube, { signal, report, timeoutMs }) =>
            waitForWorkloads(
              kube,
              { namespace, labelSelector: `app.kubernetes.io/name=${POSTGRES.podLabel['app.kubernetes.io/name']}` },
              { what: "Airflow's Postgres", timeoutMs, signal, onProgress: report },
            ),
        },
      }),
      dagsStep(ctx),
      releaseStep(ctx, {
        id: COMPONENT_ID,
        title: `Install Airflow (LocalExecutor) in ${namespace}`,
        def: airflowRelease(ctx),
        readiness: {
          check: (kube) => namedWorkloadsReadiness(kube, namespace, AIRFLOW_WORKLOADS),
          async wait(kube, { signal, report, timeoutMs }) {
            await waitForWorkloads(
              kube,
              { namespace, minimum: AIRFLOW_WORKLOADS.length },
              { what: 'Airflow', timeoutMs, signal, onProgress: report },
            );
            const state = await namedWorkloadsReadiness(kube, namespace, AIRFLOW_WORKLOADS);
            if (!state.ready) throw new Error(`Airflow: ${state.detail}`);
            return `Airflow ${state.detail}`;
          },
        },
      }),
    ];
  },
  async health(ctx, signal) {
    const fresh = await releaseFreshness(ctx, airflowRelease(ctx), signal);
    if (!fresh.state) return { ok: false, missing: true, detail: 'not installed' };
    if (fresh.state.status !== 'deployed') return { ok: false, detail: `release ${fresh.state.status}` };
    const kube = await ctx.kube();
    const namespace = ctx.config.namespaces.airflow;
    const ready = await namedWorkloadsReadiness(kube, namespace, AIRFLOW_WORKLOADS);
    const detail = `${fresh.state.chart}: ${ready.detail}`;
    if (!ready.ready) return { ok: false, detail };
    const dagsDir = ctx.config.airflow.dagsDir;
    // The pods are ready, so Airflow works; an API that does not answer in time only means the
    // DAG files were not checked this time.
    const errors = await withAirflowApi(
      kube,
      namespace,
      importErrors,
      AbortSignal.any([signal, AbortSignal.timeout(15_000)]),
    ).catch((error: unknown) => error);
    if (!Array.isArray(errors))
      return { ok: true, detail: `${detail}; DAG imports not checked (${errorMessage(errors).split('\n')[0]})` };
    if (errors.length === 0) return { ok: true, detail };
    return {
      ok: false,
      detail: `${detail}; ${errors.length} DAG file${errors.length === 1 ? '' : 's'} failed to import`,
      problems: [
        ...errors.map((e) => `${dagsDir}/${e.filename}: ${errorLine(e.stackTrace)}`),
        '`koala dags sync` shows the whole error. ' + IMPORT_ERROR_HINT,
      ],
    };
  },
  endpoints(ctx) {
    const target = { localPort: ctx.config.ports.airflow };
    return [
      {
        name: 'Airflow UI and API',
        url: target.localPort ? `http://127.0.0.1:${target.localPort}` : '(through port-forward)',
        portForward: 'koala port-forward airflow',
        credentials: 'koala credentials',
      },
    ];
  },
};
