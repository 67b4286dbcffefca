import type { V1CronJob, V1Deployment, V1Ingress, V1Job, V1Service } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { KoalaError, EXIT } from '../util/errors.ts';
import { MANUAL_ANNOTATION } from '../pipelines/batch.ts';
import { PIPELINE_LABEL, STOPPED_ANNOTATION } from '../pipelines/stream.ts';
import { TASK_LABEL } from './render.ts';

/** A deployed task as `koala tasks list` and `koala status` show it. */
export interface TaskHealth {
  name: string;
  kind: 'job' | 'cronjob' | 'deployment' | 'service' | 'stream pipeline' | 'batch pipeline';
  ok: boolean;
  /** One line: replicas ready, the Job's outcome, the CronJob's last run. */
  detail: string;
  /** A published service: its URL through the gateway (a path when no host port is mapped). */
  url?: string;
}

/**
 * Every task in a namespace, by the objects koala labelled with its name; `gatewayBase` is put
 * before a published service's path (http://127.0.0.1:<ports.gateway>).
 */
export async function listTasks(kube: Kube, namespace: string, gatewayBase = ''): Promise<TaskHealth[]> {
  const selector = { namespace, labelSelector: TASK_LABEL };
  const [jobs, cronJobs, deployments, services, ingresses] = await Promise.all([
    kube.list<V1Job>('batch/v1', 'Job', selector),
    kube.list<V1CronJob>('batch/v1', 'CronJob', selector),
    kube.list<V1Deployment>('apps/v1', 'Deployment', selector),
    kube.list<V1Service>('v1', 'Service', selector),
    kube.list<V1Ingress>('networking.k8s.io/v1', 'Ingress', selector),
  ]);
  const owned = (o: { metadata?: { labels?: Record<string, string> } }): string => o.metadata!.labels![TASK_LABEL]!;
  const withService = new Set(services.map(owned));
  const urls = new Map(
    ingresses.map((i) => [owned(i), `${gatewayBase}${i.spec?.rules?.[0]?.http?.paths[0]?.path ?? ''}/`]),
  );
  const tasks: TaskHealth[] = [
    // Jobs a CronJob started belong to the CronJob's line.
    ...jobs.filter((j) => !j.metadata?.ownerReferences?.length).map((j) => jobHealth(owned(j), j)),
    ...cronJobs.map((c) => cronJobHealth(owned(c), c)),
    ...deployments.map((d) => {
      const url = urls.get(owned(d));
      return { ...deploymentHealth(owned(d), d, withService.has(owned(d))), ...(url ? { url } : {}) };
    }),
  ];
  return tasks.sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * The pipelines of a namespace, one line each. A stream pipeline: running with its replicas
 * ready, or stopped (its Deployments). A batch pipeline: its schedule and how its newest run
 * went (its CronJob and Jobs).
 */
export async function listPipelines(kube: Kube, namespace: string): Promise<TaskHealth[]> {
  const selector = { namespace, labelSelector: PIPELINE_LABEL };
  const [deployments, cronJobs, jobs] = await Promise.all([
    kube.list<V1Deployment>('apps/v1', 'Deployment', selector),
    kube.list<V1CronJob>('batch/v1', 'CronJob', selector),
    kube.list<V1Job>('batch/v1', 'Job', selector),
  ]);
  return [...streamLines(deployments), ...cronJobs.map((c) => batchLine(c, jobs))].sort((a, b) =>
    a.name.localeCompare(b.name),
  );
}

function batchLine(cron: V1CronJob, jobs: V1Job[]): TaskHealth {
  const name = cron.metadata!.name!;
  const annotations = cron.metadata?.annotations ?? {};
  const schedule = annotations[MANUAL_ANNOTATION]
    ? 'started by hand'
    : `${cron.spec?.schedule ?? ''}${annotations[STOPPED_ANNOTATION] === 'true' ? ', stopped' : ''}`;
  const newest = jobs
    .filter((j) => j.metadata?.labels?.[PIPELINE_LABEL] === name)
    .sort((a, b) => String(b.metadata?.creationTimestamp).localeCompare(String(a.metadata?.creationTimestamp)))[0];
  if (!newest) return { name, kind: 'batch pipeline', ok: true, detail: `${schedule}; no run yet` };
  const health = jobHealth(newest.metadata!.name!, newest);
  return { name, kind: 'batch pipeline', ok: health.ok, detail: `${schedule}; run ${health.name} ${health.detail}` };
}

function streamLines(deployments: V1Deployment[]): TaskHealth[] {
  const byPipeline = new Map<string, V1Deployment[]>();
  for (const d of deployments) {
    const name = d.metadata!.labels![PIPELINE_LABEL]!;
    byPipeline.set(name, [...(byPipeline.get(name) ?? []), d]);
  }
  return [...byPipeline].map(([name, ds]) => {
    const want = ds.reduce((n, d) => n + (d.spec?.replicas ?? 0), 0);
    const ready = ds.reduce((n, d) => n + (d.status?.readyReplicas ?? 0), 0);
    const stopped = ds.some((d) => d.metadata?.annotations?.[STOPPED_ANNOTATION] === 'true');
    return {
      name,
      kind: 'stream pipeline' as const,
      ok: stopped || ready >= want,
      detail: stopped
        ? `stopped (${ds.length} micro-services)`
        : `${ready}/${want} replicas ready in ${ds.length} micro-services`,
    };
  });
}

function jobHealth(name: string, job: V1Job): TaskHealth {
  const s = job.status ?? {};
  const failed = s.conditions?.find((c) => c.type === 'Failed' && c.status === 'True');
  if (failed)
    return { name, kind: 'job', ok: false, detail: `failed: ${failed.reason ?? ''} ${failed.message ?? ''}`.trim() };
  if (s.succeeded) return { name, kind: 'job', ok: true, detail: 'succeeded' };
  return { name, kind: 'job', ok: true, detail: s.active ? `running (${s.active} pod(s))` : 'pending' };
}

function cronJobHealth(name: string, cron: V1CronJob): TaskHealth {
  const last = cron.status?.lastScheduleTime;
  const suspended = cron.spec?.suspend ? ', suspended' : '';
  return {
    name,
    kind: 'cronjob',
    ok: true,
    detail:
      `${cron.spec?.schedule ?? ''}${suspended}; ` +
      (last ? `last run ${new Date(last).toISOString()}` : 'not run yet'),
  };
}

function deploymentHealth(name: string, d: V1Deployment, service: boolean): TaskHealth {
  const want = d.spec?.replicas ?? 1;
  const ready = d.status?.readyReplicas ?? 0;
  return {
    name,
    kind: service ? 'service' : 'deployment',
    ok: ready >= want,
    detail: `${ready}/${want} ready`,
  };
}

/** Delete every object of a task; a task with none is a usage error naming the namespace. */
export async function deleteTask(kube: Kube, namespace: string, task: string): Promise<string[]> {
  const deleted: string[] = [];
  for (const [apiVersion, kind] of [
    ['batch/v1', 'CronJob'],
    ['batch/v1', 'Job'],
    ['apps/v1', 'Deployment'],
    ['v1', 'Service'],
    ['networking.k8s.io/v1', 'Ingress'],
  ] as const) {
    for (const o of await kube.list<{ metadata: { name: string } }>(apiVersion, kind, {
      namespace,
      labelSelector: `${TASK_LABEL}=${task}`,
    })) {
      if (await kube.delete({ apiVersion, kind, metadata: { name: o.metadata.name, namespace } }))
        deleted.push(`${kind.toLowerCase()}/${o.metadata.name}`);
    }
  }
  if (deleted.length === 0)
    throw new KoalaError(`No task "${task}" in namespace ${namespace}`, {
      exitCode: EXIT.usage,
      hint: '`koala tasks list` shows the deployed tasks; --namespace picks another namespace.',
    });
  return deleted;
}
