/**
 * The real upstream charts (shared fixtures) rendered by the real helm 3 and helm 4 with the
 * values `koala up` plans, for the defaults and the main koala.yaml variants. `helm template`
 * checks each chart's values.schema.json where it has one (Airflow's is strict); the test then
 * checks the objects koala depends on: names, Services and ports, Secrets and keys, NodePorts,
 * where the admin password goes, and which images run.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dump, loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { clusterSpec, resolveNodeImage } from '../../src/cluster/spec.ts';
import { AIRFLOW_WORKLOADS } from '../../src/components/airflow/index.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Action } from '../../src/engine/step.ts';
import { createPlatformContext } from '../../src/orchestration/context.ts';
import { upPlan } from '../../src/orchestration/plans.ts';
import { fixtureCharts, TEST_CHART_VERSIONS } from '../support/chart-mirror.ts';
import { testbed } from '../support/testbed.ts';

type HelmAction = Extract<Action, { kind: 'helm' }>;
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
  [key: string]: unknown;
}
interface Container {
  name: string;
  image: string;
  env?: Array<{ name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }>;
}

const UPSTREAM_CHARTS = ['spark-operator', 'minio', 'seaweedfs', 'airflow'];

/** The helm releases `koala up` would install, with the values it would pass, for a koala.yaml. */
async function plannedReleases(koalaYaml: Record<string, unknown> = {}): Promise<HelmAction[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-render-'));
  writeFileSync(path.join(dir, '.git'), '');
  const components = (koalaYaml.components ?? {}) as Record<string, Record<string, unknown>>;
  for (const [id, version] of Object.entries(TEST_CHART_VERSIONS)) components[id] = { ...components[id], version };
  writeFileSync(path.join(dir, 'koala.yaml'), dump({ ...koalaYaml, components }));
  const { config, env } = await loadConfig({ cwd: dir, processEnv: {} });
  const ctx = createPlatformContext({
    config,
    env,
    spec: clusterSpec(config, resolveNodeImage(config.cluster, '2')),
    processEnv: { KOALA_HOME: path.join(dir, '.home') },
  });
  const description = await upPlan(ctx).describe();
  return description.flatMap((s) => s.actions).filter((a): a is HelmAction => a.kind === 'helm');
}

/** `helm template` of an upstream chart archive with koala's values; throws helm's own error. */
function render(helm: string, action: HelmAction): K8sObject[] {
  const name = action.chart.split(' ')[0]!;
  const archive = path.join(fixtureCharts(), `${name}-${action.version}.tgz`);
  if (!existsSync(archive)) throw new Error(`no fixture chart ${archive}`);
  const work = mkdtempSync(path.join(os.tmpdir(), 'koala-render-values-'));
  const values = path.join(work, 'values.json');
  writeFileSync(values, JSON.stringify(action.values ?? {}));
  const env = { ...process.env, HELM_CONFIG_HOME: work, HELM_CACHE_HOME: work, HELM_DATA_HOME: work };
  const out = execFileSync(
    helm,
    ['template', action.release, archive, '--namespace', action.namespace, '--values', values],
    { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return (loadAll(out) as Array<K8sObject | null>).filter((o): o is K8sObject => Boolean(o?.kind));
}

function renderAll(helm: string, actions: HelmAction[]): Map<string, K8sObject[]> {
  const upstream = actions.filter((a) => UPSTREAM_CHARTS.includes(a.chart.split(' ')[0]!));
  return new Map(upstream.map((a) => [a.release, render(helm, a)]));
}

function podSpecOf(
  o: K8sObject,
): { containers: Container[]; initContainers?: Container[]; volumes?: unknown[] } | undefined {
  const spec = o.spec as
    { template?: { spec?: unknown }; jobTemplate?: { spec?: { template?: { spec?: unknown } } } } | undefined;
  return (spec?.template?.spec ?? spec?.jobTemplate?.spec?.template?.spec) as ReturnType<typeof podSpecOf>;
}

function containersOf(objects: K8sObject[]): Array<{ owner: string; container: Container }> {
  return objects.flatMap((o) => {
    const pod = podSpecOf(o);
    if (!pod) return [];
    return [...(pod.initContainers ?? []), ...pod.containers].map((container) => ({
      owner: `${o.kind}/${o.metadata.name}`,
      container,
    }));
  });
}

const find = (objects: K8sObject[], kind: string, name: string): K8sObject | undefined =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);
const servicePorts = (svc: K8sObject | undefined) =>
  ((svc?.spec?.ports ?? []) as Array<{ name?: string; port: number; nodePort?: number }>).map((p) => ({
    port: p.port,
    nodePort: p.nodePort,
  }));

describe.each(['helm3', 'helm4'])("the real charts rendered by %s with koala's values", (helmName) => {
  const helm = (): string => path.join(testbed().binDir, helmName);

  it('defaults: every chart renders (values.schema.json included) into the objects koala relies on', async () => {
    const actions = await plannedReleases();
    const rendered = renderAll(helm(), actions);
    expect([...rendered.keys()].sort()).toEqual(['airflow', 'minio', 'spark-operator']);

    const operator = rendered.get('spark-operator')!;
    for (const name of ['spark-operator-controller', 'spark-operator-webhook'])
      expect(find(operator, 'Deployment', name), name).toBeDefined();
    expect(
      operator.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === 'spark-operator-spark')?.metadata
        .namespace,
    ).toBe('spark-jobs');
    expect(servicePorts(find(operator, 'Service', 'spark-operator-webhook-svc'))).toEqual([
      { port: 9443, nodePort: undefined },
    ]);

    const minio = rendered.get('minio')!;
    expect(find(minio, 'Deployment', 'minio')).toBeDefined();
    expect(servicePorts(find(minio, 'Service', 'minio'))).toEqual([{ port: 9000, nodePort: 30900 }]);
    expect(servicePorts(find(minio, 'Service', 'minio-console'))).toEqual([{ port: 9001, nodePort: 30901 }]);
    const minioEnv = containersOf(minio).flatMap((c) => c.container.env ?? []);
    expect(minioEnv.filter((e) => e.valueFrom?.secretKeyRef).map((e) => e.valueFrom!.secretKeyRef)).toEqual(
      expect.arrayContaining([
        { name: 'object-store-credentials', key: 'rootUser' },
        { name: 'object-store-credentials', key: 'rootPassword' },
      ]),
    );

    const airflow = rendered.get('airflow')!;
    for (const name of AIRFLOW_WORKLOADS)
      expect(find(airflow, 'Deployment', name), `${name} is a Deployment`).toBeDefined();
    expect(servicePorts(find(airflow, 'Service', 'airflow-api-server'))).toEqual([{ port: 8080, nodePort: 30080 }]);
    // LocalExecutor with worker persistence off: the scheduler claims no volume, nothing does.
    expect(
      airflow
        .filter((o) => o.kind === 'StatefulSet' || o.kind === 'PersistentVolumeClaim')
        .map((o) => `${o.kind}/${o.metadata.name}`),
    ).toEqual([]);
    // Every Secret the chart reads is one koala creates (the chart creates none of its own).
    const secretRefs = new Set(
      containersOf(airflow)
        .flatMap((c) => (c.container.env ?? []).map((e) => e.valueFrom?.secretKeyRef?.name))
        .filter(Boolean),
    );
    expect([...secretRefs].sort()).toEqual([
      'airflow-admin',
      'airflow-api-secret-key',
      'airflow-connections',
      'airflow-fernet-key',
      'airflow-jwt-secret',
      'airflow-metadata',
    ]);
    // The chart's one Secret of its own is the Celery broker URL, made whatever the executor; with
    // no Redis it holds no URL at all (the chart prints Go's "%!s(<nil>)").
    const own = airflow.filter((o) => o.kind === 'Secret');
    expect(own.map((o) => o.metadata.name)).toEqual(['airflow-broker-url']);
    expect(Buffer.from((own[0]!.data as { connection: string }).connection, 'base64').toString()).not.toMatch(/:\/\//);
  });

  it('Airflow: the admin password reaches the create-user Job alone, which waits for the migrations', async () => {
    const airflow = renderAll(helm(), await plannedReleases()).get('airflow')!;
    const withPassword = containersOf(airflow).filter((c) =>
      (c.container.env ?? []).some((e) => e.valueFrom?.secretKeyRef?.name === 'airflow-admin'),
    );
    expect(withPassword.map((c) => `${c.owner}:${c.container.name}`)).toEqual(['Job/airflow-create-user:create-user']);
    const job = podSpecOf(find(airflow, 'Job', 'airflow-create-user')!)!;
    const wait = job.initContainers?.find((c) => c.name === 'wait-for-airflow-migrations') as
      (Container & { args: string[] }) | undefined;
    expect(wait?.args.slice(0, 3)).toEqual(['airflow', 'db', 'check-migrations']);
    expect(wait?.image).toBe(job.containers[0]!.image);
    expect(wait?.env?.find((e) => e.name === 'AIRFLOW__DATABASE__SQL_ALCHEMY_CONN')?.valueFrom?.secretKeyRef).toEqual({
      name: 'airflow-metadata',
      key: 'connection',
    });
  });

  it('values overrides reach the chart: createUserJob.enabled false turns the user Job off', async () => {
    const actions = await plannedReleases({
      components: { airflow: { values: { createUserJob: { enabled: false } } } },
    });
    const airflow = renderAll(helm(), actions).get('airflow')!;
    expect(find(airflow, 'Job', 'airflow-create-user')).toBeUndefined();
    expect(find(airflow, 'Job', 'airflow-run-airflow-migrations')).toBeDefined();
  });

  it('the switch koala sets for the user Job is one the chart reads: flipping it turns the Job off', async () => {
    const actions = await plannedReleases();
    const airflow = actions.find((a) => a.release === 'airflow')!;
    const flip = (node: unknown): void => {
      if (node === null || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (key === 'enabled' && value === true) (node as Record<string, unknown>)[key] = false;
        else flip(value);
      }
    };
    const userJob = (airflow.values as { createUserJob: Record<string, unknown> }).createUserJob;
    expect(JSON.stringify(userJob)).toContain('"enabled":true');
    flip(userJob);
    expect(find(render(helm(), airflow), 'Job', 'airflow-create-user')).toBeUndefined();
  });

  it("SeaweedFS: one all-in-one workload with S3 on 8333, auth from koala's Secret", async () => {
    const rendered = renderAll(helm(), await plannedReleases({ objectStore: { type: 'seaweedfs' } }));
    expect([...rendered.keys()].sort()).toEqual(['airflow', 'seaweedfs', 'spark-operator']);
    const seaweed = rendered.get('seaweedfs')!;
    const workloads = seaweed.filter((o) => ['Deployment', 'StatefulSet'].includes(o.kind)).map((o) => o.metadata.name);
    expect(workloads).toEqual(['seaweedfs-all-in-one']);
    expect(servicePorts(find(seaweed, 'Service', 'seaweedfs-all-in-one')).map((p) => p.port)).toContain(8333);
    const workload = seaweed.find((o) => o.metadata.name === 'seaweedfs-all-in-one' && o.kind !== 'Service')!;
    expect(JSON.stringify(podSpecOf(workload)?.volumes)).toContain('object-store-credentials');
  });

  it('components turned off, one or three control planes, no host ports: only what is on renders', async () => {
    for (const controlPlanes of [1, 3]) {
      const rendered = renderAll(
        helm(),
        await plannedReleases({
          cluster: { controlPlanes, workers: 1 },
          ports: { airflow: 0, objectStore: 0, objectStoreConsole: 0, gateway: 0 },
          components: { airflow: { enabled: false } },
        }),
      );
      expect([...rendered.keys()].sort(), `controlPlanes ${controlPlanes}`).toEqual(['minio', 'spark-operator']);
      expect(find(rendered.get('minio')!, 'Service', 'minio')?.spec?.type).toBe('ClusterIP');
    }
  });

  it('images: with a mirror every container of every chart pulls from it, and none is a Bitnami image', async () => {
    for (const store of ['minio', 'seaweedfs']) {
      const rendered = renderAll(
        helm(),
        await plannedReleases({ images: { mirror: 'registry.internal:5000/hub' }, objectStore: { type: store } }),
      );
      const images = [...rendered.values()].flatMap((objects) =>
        containersOf(objects).map((c) => `${c.owner} ${c.container.image}`),
      );
      expect(images.length).toBeGreaterThan(5);
      expect(images.filter((i) => !i.split(' ')[1]!.startsWith('registry.internal:5000/hub/'))).toEqual([]);
    }
    const defaults = renderAll(helm(), await plannedReleases());
    const images = [...defaults.values()].flatMap((objects) => containersOf(objects).map((c) => c.container.image));
    expect(images.filter((i) => /bitnami/i.test(i))).toEqual([]);
  });
});
