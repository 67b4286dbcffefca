import { readFileSync } from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { airflowValues, airflowVersionOf } from '../../../src/components/airflow/values.ts';
import { portForwardTargets } from '../../../src/components/endpoints.ts';
import { objectStoreValues } from '../../../src/components/object-store/values.ts';
import { credentialsFromSecrets, platformSecrets } from '../../../src/components/foundation/secrets.ts';
import { rbacValues } from '../../../src/components/rbac/personas.ts';
import { sameValues } from '../../../src/components/release.ts';
import { sparkOperatorValues } from '../../../src/components/spark-operator/index.ts';
import { SPARK_SERVICE_ACCOUNT, sparkJobSettings } from '../../../src/components/spark-operator/settings.ts';
import { loadPins, splitImage, validatePins } from '../../../src/charts/pins.ts';
import { defaultConfig } from '../../../src/config/schema.ts';
import { resolveCredentials } from '../../../src/orchestration/credentials.ts';
import { sparkOperatorFixtures } from '../../support/fixtures.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
const FIXTURES = sparkOperatorFixtures();

/** Every leaf path of an object, as "a.b.c". */
function leaves(o: unknown, prefix = ''): string[] {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return [prefix];
  return Object.entries(o).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

function has(tree: unknown, dotted: string): boolean {
  let node = tree as Record<string, unknown> | undefined;
  for (const key of dotted.split('.')) {
    if (node === null || typeof node !== 'object') return false;
    // An empty map upstream (resources: {}) is free-form: anything below it is the chart's to accept.
    if (Object.keys(node).length === 0) return true;
    if (!(key in node)) return false;
    node = node[key] as Record<string, unknown>;
  }
  return true;
}

describe('values koala passes to the charts', () => {
  it('spark-operator: every key is in the chart 2.5.2 values.yaml, webhook on, job namespaces watched', async () => {
    const upstream = load(readFileSync(path.join(FIXTURES, 'values.yaml'), 'utf8'));
    const values = sparkOperatorValues(defaultConfig(REPO), await loadPins());
    for (const key of leaves(values)) expect(has(upstream, key), key).toBe(true);
    expect(values).toMatchObject({
      webhook: { enable: true },
      spark: { jobNamespaces: ['spark-jobs'], serviceAccount: { create: true, name: 'spark-operator-spark' } },
    });
  });

  // The pinned quay.io image by digest, standalone, laptop-sized, no users with fixed passwords,
  // and NodePorts for the host ports koala maps.
  it('MinIO: pinned image, standalone, laptop-sized, no fixed-password users, NodePorts', async () => {
    const config = defaultConfig(REPO);
    const values = objectStoreValues(config, await loadPins()) as Record<string, Record<string, unknown>>;
    expect(values.mode).toBe('standalone');
    expect(values.replicas).toBe(1);
    expect(`${values.image!.repository}:${values.image!.tag}`).toMatch(
      /^quay\.io\/minio\/minio:RELEASE\.2025-09-07T16-13-09Z@sha256:[0-9a-f]{64}$/,
    );
    expect(values.users).toEqual([]);
    expect(values.existingSecret).toBe('object-store-credentials');
    expect(values.resources).toMatchObject({ requests: { memory: '512Mi' } });
    expect(values.service).toEqual({ type: 'NodePort', port: '9000', nodePort: 30900 });
    config.ports.objectStore = 0;
    expect((objectStoreValues(config, await loadPins()) as Record<string, unknown>).service).toEqual({
      type: 'ClusterIP',
      port: '9000',
    });
  });

  it('SeaweedFS: the official chart in all-in-one mode, S3 auth from the same Secret', async () => {
    const config = defaultConfig(REPO);
    config.objectStore.type = 'seaweedfs';
    expect(objectStoreValues(config, await loadPins())).toMatchObject({
      allInOne: {
        enabled: true,
        s3: { enabled: true, enableAuth: true, existingConfigSecret: 'object-store-credentials' },
      },
    });
    expect(portForwardTargets(config)['object-store']).toMatchObject({ service: 'seaweedfs-all-in-one', port: 8333 });
  });

  it.each([
    ['3.2.2', '3.2.2'],
    ['3.2.2-python3.12', '3.2.2'],
    ['3.2.2-4445d5c26259', '3.2.2'],
    ['v3.1.0', '3.1.0'],
    ['slim-3.2.2-python3.12', '3.2.2'],
    ['3.2.2@sha256:abc', '3.2.2'],
    ['latest', undefined],
    ['slim-latest', undefined],
  ])("airflowVersion of the image tag %s is %s: the chart's semver checks refuse a suffix", (tag, version) => {
    expect(airflowVersionOf(tag)).toBe(version);
  });

  it("Airflow: an image override's tag with a suffix still gives the chart a plain version", async () => {
    const { credentials } = await resolveCredentials(new Map(), undefined);
    const config = defaultConfig(REPO);
    config.images = { ...config.images, airflow: 'registry.local/airflow:3.2.2-python3.12' };
    expect(airflowValues(config, await loadPins(), credentials)).toMatchObject({
      airflowVersion: '3.2.2',
      defaultAirflowTag: '3.2.2-python3.12',
    });
    config.images = { ...config.images, airflow: 'registry.local/airflow:latest' };
    expect(airflowValues(config, await loadPins(), credentials).airflowVersion).toBe('3.2.2');
  });

  it('Airflow: LocalExecutor, own Postgres, hooks off, secrets by reference only, connections declared', async () => {
    const { credentials } = await resolveCredentials(new Map(), undefined);
    const values = airflowValues(defaultConfig(REPO), await loadPins(), credentials);
    expect(values).toMatchObject({
      executor: 'LocalExecutor',
      postgresql: { enabled: false },
      data: { metadataSecretName: 'airflow-metadata' },
      migrateDatabaseJob: { useHelmHooks: false },
      createUserJob: { useHelmHooks: false },
      rbac: { create: false },
      allowPodLaunching: false,
      defaultAirflowTag: '3.2.2',
    });
    const text = JSON.stringify(values);
    for (const secret of [
      credentials.airflow.password,
      credentials.airflow.fernetKey,
      credentials.postgres.password,
      credentials.objectStore.secretKey,
    ])
      expect(text).not.toContain(secret);
    const envNames = (values.secret as Array<{ envName: string }>).map((s) => s.envName);
    expect(envNames).toEqual(expect.arrayContaining(['AIRFLOW_CONN_KUBERNETES_DEFAULT', 'AIRFLOW_CONN_OBJECT_STORE']));
    // The chart hands the global secret list to every container: the admin's password is not in it.
    expect(envNames.filter((n) => n.startsWith('KOALA_ADMIN'))).toEqual([]);
    expect((values.config as { core: { dags_folder: string } }).core.dags_folder).toBe('/opt/airflow/dags/current');
  });

  it('the Secrets: each consumer gets what it needs, connection strings are URL-safe, they round-trip', async () => {
    const config = defaultConfig(REPO);
    const { credentials } = await resolveCredentials(new Map(), undefined);
    credentials.postgres.password = 'p@ss/word:with#chars';
    const secrets = platformSecrets(config, credentials);
    const get = (name: string, ns: string) => secrets.find((s) => s.name === name && s.namespace === ns)!.data;
    expect(get('airflow-metadata', 'airflow').connection).toBe(
      `postgresql://airflow:${encodeURIComponent('p@ss/word:with#chars')}@` +
        'airflow-postgres.airflow.svc.cluster.local:5432/airflow?sslmode=disable',
    );
    expect(JSON.parse(get('airflow-connections', 'airflow').AIRFLOW_CONN_KUBERNETES_DEFAULT!)).toEqual({
      conn_type: 'kubernetes',
      extra: { in_cluster: true },
    });
    expect(JSON.parse(get('airflow-connections', 'airflow').AIRFLOW_CONN_OBJECT_STORE!).extra.endpoint_url).toBe(
      'http://minio.object-store.svc.cluster.local:9000',
    );
    expect(get('object-store-s3', 'spark-jobs')).toMatchObject({
      AWS_ACCESS_KEY_ID: credentials.objectStore.accessKey,
      AWS_ENDPOINT_URL: 'http://minio.object-store.svc.cluster.local:9000',
    });
    expect(credentialsFromSecrets(secrets)).toEqual(credentials);
  });

  it('sparkJobSettings: what the job loop renders SparkApplications with', () => {
    const settings = sparkJobSettings(defaultConfig(REPO));
    expect(settings).toMatchObject({
      defaultNamespace: 'spark-jobs',
      serviceAccount: SPARK_SERVICE_ACCOUNT,
      s3Secret: 'object-store-s3',
      envFrom: [{ secretRef: { name: 'object-store-s3' } }],
      buckets: ['spark-data'],
    });
    expect(settings.sparkConf['spark.hadoop.fs.s3a.path.style.access']).toBe('true');
    expect(settings.sparkConf['spark.hadoop.fs.s3a.endpoint']).toBe('http://minio.object-store.svc.cluster.local:9000');
    expect(JSON.stringify(settings)).not.toMatch(/secret\.key|access\.key/);
  });

  it('RBAC values: personas in every platform namespace, cluster names prefixed by the system namespace', () => {
    const values = rbacValues(defaultConfig(REPO)) as {
      rbac: { prefix: string; namespaces: string[]; personas: unknown[] };
    };
    expect(values.rbac.prefix).toBe('koala-system');
    expect(values.rbac.namespaces).toEqual(['spark-operator', 'spark-jobs', 'object-store', 'airflow', 'gateway']);
    expect(values.rbac.personas).toHaveLength(3);
  });

  it('compares values as helm stores them: key order and JSON types, not object identity', () => {
    expect(sameValues({ a: 1, b: { c: [1, 'x'] } }, { b: { c: [1, 'x'] }, a: 1 })).toBe(true);
    expect(sameValues({ a: { skip: undefined } }, { a: {} })).toBe(true);
    expect(sameValues({ a: [1, 2] }, { a: [2, 1] })).toBe(false);
    expect(sameValues({ a: '1' }, { a: 1 })).toBe(false);
  });

  it('pins: the file is complete, and images split into repository and tag', async () => {
    const pins = await loadPins();
    expect(pins.charts['spark-operator']).toEqual({
      repository: 'https://kubeflow.github.io/spark-operator',
      name: 'spark-operator',
      version: '2.5.2',
    });
    expect(pins.charts.minio.version).toBe('5.4.0');
    expect(pins.charts.airflow.version).toMatch(/^1\.22\./);
    expect(() => validatePins({ charts: {} }, 'pins.yaml')).toThrow(/charts.spark-operator/);
    expect(splitImage('quay.io/minio/mc:RELEASE.1@sha256:abc')).toEqual({
      repository: 'quay.io/minio/mc',
      tag: 'RELEASE.1@sha256:abc',
    });
    expect(splitImage('localhost:5001/app')).toEqual({ repository: 'localhost:5001/app', tag: 'latest' });
  });
});
