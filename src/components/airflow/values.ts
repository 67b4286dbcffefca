import { createHash } from 'node:crypto';
import { imageFor } from '../../charts/images.ts';
import { splitImage, type Pins } from '../../charts/pins.ts';
import type { KoalaConfig } from '../../config/schema.ts';
import type { Credentials } from '../../orchestration/credentials.ts';
import { objectStoreEndpoint } from '../object-store/settings.ts';
import { RELEASES, SECRETS } from '../names.ts';
import { SPARK_SERVICE_ACCOUNT } from '../spark-operator/settings.ts';
import { AIRFLOW } from './declaration.ts';
import { DAGS_BUNDLE_MOUNT, DAGS_CONFIGMAP, DAGS_FOLDER, DAGS_ROOT, DAGS_SYNC_SCRIPT } from './dags.ts';

/**
 * Values for the official Airflow chart (1.22.x, Airflow 3.2): LocalExecutor, koala's own
 * Postgres instead of the frozen bitnamilegacy subchart, every secret from a Secret koala made
 * (nothing secret in these values), the migration and user jobs without Helm hooks (so
 * `helm --wait` does not deadlock on the components' wait-for-migrations init containers), and
 * connections declared as environment variables.
 */

/** The ServiceAccounts that run tasks under LocalExecutor (scheduler) and deferred ones (triggerer). */
export const AIRFLOW_TASK_SERVICE_ACCOUNTS = [`${RELEASES.airflow}-scheduler`, `${RELEASES.airflow}-triggerer`];
/** The chart's Jobs, named after the release. */
export const AIRFLOW_JOBS = [`${RELEASES.airflow}-run-airflow-migrations`, `${RELEASES.airflow}-create-user`];

const env = (name: string, secretName: string, secretKey = name) => ({ envName: name, secretName, secretKey });
const secretEnv = (name: string, secretName: string, key: string) => ({
  name,
  valueFrom: { secretKeyRef: { name: secretName, key } },
});
const resources = (cpu: string, memory: string, limit: string) => ({
  requests: { cpu, memory },
  limits: { memory: limit },
});

/**
 * The admin user from the Secret: reset its password when it exists, create it otherwise. No
 * password in the pod spec, and none in a process's arguments either: without --password both
 * commands prompt for it (twice), and getpass falls back to stdin when there is no terminal;
 * printf is a shell builtin, so the password never reaches an argv.
 */
const PASSWORD_TWICE = 'printf \'%s\\n%s\\n\' "$KOALA_ADMIN_PASSWORD" "$KOALA_ADMIN_PASSWORD"';
const CREATE_USER = [
  `${PASSWORD_TWICE} | airflow users reset-password --username "$KOALA_ADMIN_USERNAME" >/dev/null 2>&1`,
  `|| ${PASSWORD_TWICE} | exec airflow users create --role Admin --username "$KOALA_ADMIN_USERNAME"`,
  '--email "$KOALA_ADMIN_USERNAME@koala.invalid" --firstname Koala --lastname Admin',
].join(' ');

/**
 * The check the chart's own workloads wait with (`airflow db check-migrations`), for the user
 * Job. The chart renders extraInitContainers through `tpl`, so the image, the wait timeout and
 * the config volume are the chart's own.
 */
function waitForMigrations() {
  return {
    name: 'wait-for-airflow-migrations',
    image: '{{ template "airflow_image_for_migrations" . }}',
    imagePullPolicy: '{{ .Values.images.airflow.pullPolicy }}',
    args: ['airflow', 'db', 'check-migrations', '--migration-wait-timeout={{ .Values.images.migrationsWaitTimeout }}'],
    env: [
      { name: 'AIRFLOW_HOME', value: '{{ .Values.airflowHome }}' },
      secretEnv('AIRFLOW__DATABASE__SQL_ALCHEMY_CONN', SECRETS.airflowMetadata, 'connection'),
    ],
    resources: resources('50m', '256Mi', '1Gi'),
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    volumeMounts: [
      { name: 'config', mountPath: '{{ template "airflow_config_path" . }}', subPath: 'airflow.cfg', readOnly: true },
    ],
  };
}

function dagsMounts(image: string) {
  return {
    extraVolumes: [
      { name: 'koala-dags', emptyDir: {} },
      { name: 'koala-dags-bundle', configMap: { name: DAGS_CONFIGMAP, optional: true } },
    ],
    extraVolumeMounts: [{ name: 'koala-dags', mountPath: DAGS_ROOT }],
    extraContainers: [
      {
        name: 'koala-dags',
        image,
        imagePullPolicy: 'IfNotPresent',
        command: ['python', '-c', DAGS_SYNC_SCRIPT],
        resources: resources('5m', '32Mi', '128Mi'),
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
        volumeMounts: [
          { name: 'koala-dags', mountPath: DAGS_ROOT },
          { name: 'koala-dags-bundle', mountPath: DAGS_BUNDLE_MOUNT, readOnly: true },
        ],
      },
    ],
  };
}

/**
 * The Airflow version of an image tag. The chart turns whole components on and off with semver
 * checks of `airflowVersion` (the api-server only for ">=3.0.0"), and semver reads a tag's suffix
 * (3.2.2-python3.12, a mirror's 3.2.2-build7) as a pre-release, which such a check refuses. A tag
 * without a version (latest, a digest only) leaves the pin's.
 */
export function airflowVersionOf(tag: string): string | undefined {
  return /^(?:slim-)?v?(\d+\.\d+\.\d+)/.exec(tag)?.[1];
}

export function airflowValues(config: KoalaConfig, pins: Pins, credentials: Credentials): Record<string, unknown> {
  const reference = imageFor(config, pins, 'airflow');
  const image = splitImage(reference);
  const version = airflowVersionOf(image.tag) ?? airflowVersionOf(splitImage(pins.images.airflow).tag)!;
  const jobNamespace = config.spark.jobNamespaces[0]!;
  // Changes when the admin credentials change, so the user job runs again (koala removes the old Job first).
  const credentialsMark = createHash('sha256')
    .update(`${credentials.airflow.fernetKey}:${credentials.airflow.username}:${credentials.airflow.password}`)
    .digest('hex')
    .slice(0, 16);
  return {
    defaultAirflowRepository: image.repository,
    defaultAirflowTag: image.tag,
    airflowVersion: version,
    executor: 'LocalExecutor',
    postgresql: { enabled: false },
    redis: { enabled: false },
    statsd: { enabled: false },
    pgbouncer: { enabled: false },
    data: { metadataSecretName: SECRETS.airflowMetadata },
    fernetKeySecretName: SECRETS.airflowFernetKey,
    apiSecretKeySecretName: SECRETS.airflowApiSecretKey,
    jwtSecretName: SECRETS.airflowJwtSecret,
    // The only Kubernetes rights Airflow gets are koala's Role in the job namespaces.
    rbac: { create: false },
    allowPodLaunching: false,
    migrateDatabaseJob: { useHelmHooks: false, applyCustomEnv: false },
    createUserJob: {
      // The chart's switch for the Job (`defaultUser.enabled` only matters under the deprecated
      // `webserver.defaultUser`); an override of `createUserJob.enabled: false` turns it off.
      enabled: true,
      useHelmHooks: false,
      applyCustomEnv: false,
      defaultUser: { role: 'Admin', username: 'see `koala credentials`', password: 'see `koala credentials`' },
      // The admin's name and password reach this Job's container alone: the chart gives the
      // global `secret:` list to every Airflow container, where any DAG could read it.
      env: [
        secretEnv('KOALA_ADMIN_USERNAME', SECRETS.airflowAdmin, 'username'),
        secretEnv('KOALA_ADMIN_PASSWORD', SECRETS.airflowAdmin, 'password'),
      ],
      // Without Helm hooks the migration and user Jobs start together; creating the user before
      // the schema exists fails, and its retries may run out on a slow first start.
      extraInitContainers: [waitForMigrations()],
      command: ['bash', '-c'],
      args: [CREATE_USER],
      annotations: { 'koala.dev/credentials': credentialsMark },
    },
    // Under LocalExecutor the scheduler runs the tasks; with worker persistence on (the chart's
    // default) it becomes a StatefulSet with a 100Gi logs claim. Task logs stay in the pod.
    workers: { celery: { persistence: { enabled: false } } },
    secret: [
      env('AIRFLOW_CONN_KUBERNETES_DEFAULT', SECRETS.airflowConnections),
      env('AIRFLOW_CONN_OBJECT_STORE', SECRETS.airflowConnections),
      env('AIRFLOW_CONN_AWS_DEFAULT', SECRETS.airflowConnections),
    ],
    env: [
      // Variables DAGs can read with Variable.get(...): where to submit and with what.
      { name: 'AIRFLOW_VAR_SPARK_NAMESPACE', value: jobNamespace },
      { name: 'AIRFLOW_VAR_SPARK_SERVICE_ACCOUNT', value: SPARK_SERVICE_ACCOUNT },
      { name: 'AIRFLOW_VAR_S3_ENDPOINT', value: objectStoreEndpoint(config) },
      { name: 'AIRFLOW_VAR_S3_BUCKET', value: config.objectStore.buckets[0] ?? '' },
    ],
    config: {
      core: { dags_folder: DAGS_FOLDER, load_examples: 'False' },
      dag_processor: { refresh_interval: 30 },
      // A task's supervisor heartbeats to the api-server's execution API and, by default, kills
      // the task after 3 failures in a row, each allowed 5 s; the operator's `on_kill` then deletes
      // the SparkApplication it submitted. A laptop starting Spark executors beside Airflow slows
      // the api-server for minutes at a time, so these tolerate minutes, not seconds.
      workers: { max_failed_heartbeats: 20, execution_api_timeout: 30 },
      scheduler: { task_instance_heartbeat_timeout: 600 },
    },
    dags: { persistence: { enabled: false }, gitSync: { enabled: false } },
    logs: { persistence: { enabled: false } },
    scheduler: { replicas: 1, resources: resources('100m', '512Mi', '2Gi'), ...dagsMounts(reference) },
    dagProcessor: {
      enabled: true,
      replicas: 1,
      resources: resources('100m', '384Mi', '1Gi'),
      ...dagsMounts(reference),
    },
    triggerer: {
      enabled: true,
      replicas: 1,
      persistence: { enabled: false },
      resources: resources('50m', '256Mi', '1Gi'),
      ...dagsMounts(reference),
    },
    apiServer: {
      replicas: 1,
      resources: resources('100m', '512Mi', '1536Mi'),
      // Its first start, with the FAB auth manager syncing roles and permissions into the
      // database, took over 60 s (the chart's 6 x 10 s) on two cores busy starting the other
      // components, and the kubelet killed it mid-sync, again and again: 5 minutes here.
      startupProbe: { failureThreshold: 30 },
      // Running tasks depend on it (see the heartbeats above): a probe answered slowly under load
      // must not restart it. 20 s per answer, 10 failures in a row.
      livenessProbe: { timeoutSeconds: 20, failureThreshold: 10 },
      // kind maps the host's 127.0.0.1:<ports.airflow> to this NodePort.
      ...(config.ports.airflow
        ? {
            service: {
              type: 'NodePort',
              ports: [{ name: 'api-server', port: 8080, nodePort: AIRFLOW.hostPorts.airflow.nodePort }],
            },
          }
        : {}),
    },
    cleanup: { enabled: false },
  };
}
