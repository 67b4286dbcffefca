import type { KoalaConfig } from '../../config/schema.ts';
import type { Credentials } from '../../orchestration/credentials.ts';
import { objectStoreEndpoint, objectStoreService, s3Region } from '../object-store/settings.ts';
import { POSTGRES, SECRETS } from '../names.ts';

/** The Secrets koala creates from the credentials: who needs what, where. Pure, so tests read it as data. */

export interface SecretSpec {
  name: string;
  namespace: string;
  data: Record<string, string>;
}

export function platformSecrets(config: KoalaConfig, c: Credentials): SecretSpec[] {
  const store = objectStoreService(config);
  const endpoint = objectStoreEndpoint(config);
  const region = s3Region(config);
  const airflowNs = config.namespaces.airflow;
  const s3Env = {
    AWS_ACCESS_KEY_ID: c.objectStore.accessKey,
    AWS_SECRET_ACCESS_KEY: c.objectStore.secretKey,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
  };
  const s3Connection = JSON.stringify({
    conn_type: 'aws',
    login: c.objectStore.accessKey,
    password: c.objectStore.secretKey,
    extra: { endpoint_url: endpoint, region_name: region },
  });
  const postgresHost = `${POSTGRES.name}.${airflowNs}.svc.cluster.local:${POSTGRES.port}`;
  const userinfo = `${POSTGRES.user}:${encodeURIComponent(c.postgres.password)}`;
  const database = `postgresql://${userinfo}@${postgresHost}/${POSTGRES.database}?sslmode=disable`;
  return [
    {
      name: SECRETS.objectStoreRoot,
      namespace: store.namespace,
      data: {
        // MinIO's chart reads these two keys (existingSecret).
        rootUser: c.objectStore.accessKey,
        rootPassword: c.objectStore.secretKey,
        // SeaweedFS's chart mounts this key as its S3 identities file.
        seaweedfs_s3_config: JSON.stringify({
          identities: [
            {
              name: 'koala',
              credentials: [{ accessKey: c.objectStore.accessKey, secretKey: c.objectStore.secretKey }],
              actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
            },
          ],
        }),
        // mc reads an alias from MC_HOST_<alias>, so the bucket job needs no `mc alias set` with keys in its arguments.
        MC_HOST_store: endpoint.replace(
          '://',
          `://${encodeURIComponent(c.objectStore.accessKey)}:${encodeURIComponent(c.objectStore.secretKey)}@`,
        ),
      },
    },
    ...config.spark.jobNamespaces.map((namespace) => ({ name: SECRETS.jobS3, namespace, data: s3Env })),
    {
      name: SECRETS.airflowPostgres,
      namespace: airflowNs,
      data: { username: POSTGRES.user, password: c.postgres.password },
    },
    { name: SECRETS.airflowMetadata, namespace: airflowNs, data: { connection: database } },
    { name: SECRETS.airflowFernetKey, namespace: airflowNs, data: { 'fernet-key': c.airflow.fernetKey } },
    { name: SECRETS.airflowApiSecretKey, namespace: airflowNs, data: { 'api-secret-key': c.airflow.apiSecretKey } },
    { name: SECRETS.airflowJwtSecret, namespace: airflowNs, data: { 'jwt-secret': c.airflow.jwtSecret } },
    {
      name: SECRETS.airflowAdmin,
      namespace: airflowNs,
      data: { username: c.airflow.username, password: c.airflow.password },
    },
    {
      name: SECRETS.airflowConnections,
      namespace: airflowNs,
      data: {
        // Declared, never clicked: the connection a user would otherwise make by hand in
        // Airflow's UI (Admin → Connections → kubernetes_default → In cluster).
        AIRFLOW_CONN_KUBERNETES_DEFAULT: JSON.stringify({ conn_type: 'kubernetes', extra: { in_cluster: true } }),
        AIRFLOW_CONN_OBJECT_STORE: s3Connection,
        AIRFLOW_CONN_AWS_DEFAULT: s3Connection,
      },
    },
  ];
}

/** The credentials back from the Secrets a release holds (when the local file is gone). */
export function credentialsFromSecrets(
  secrets: SecretSpec[] | undefined,
): Partial<Record<keyof Credentials, Record<string, string>>> | undefined {
  if (!secrets?.length) return undefined;
  const data = (name: string): Record<string, string> => secrets.find((s) => s.name === name)?.data ?? {};
  const pick = (o: Record<string, string | undefined>): Record<string, string> =>
    Object.fromEntries(Object.entries(o).filter((e): e is [string, string] => Boolean(e[1])));
  return {
    objectStore: pick({
      accessKey: data(SECRETS.objectStoreRoot).rootUser,
      secretKey: data(SECRETS.objectStoreRoot).rootPassword,
    }),
    airflow: pick({
      username: data(SECRETS.airflowAdmin).username,
      password: data(SECRETS.airflowAdmin).password,
      fernetKey: data(SECRETS.airflowFernetKey)['fernet-key'],
      apiSecretKey: data(SECRETS.airflowApiSecretKey)['api-secret-key'],
      jwtSecret: data(SECRETS.airflowJwtSecret)['jwt-secret'],
    }),
    postgres: pick({ password: data(SECRETS.airflowPostgres).password }),
  };
}
