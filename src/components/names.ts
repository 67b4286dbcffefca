import type { KoalaConfig } from '../config/schema.ts';

/**
 * Names the components share with each other, with koala's chart, and with the Spark job
 * loop (src/jobs/): one place, so a Secret renamed here is renamed everywhere.
 */

export const RELEASES = {
  platform: 'koala-platform',
  rbac: 'koala-rbac',
  networkPolicies: 'koala-network-policies',
  postgres: 'koala-postgres',
  sparkOperator: 'spark-operator',
  airflow: 'airflow',
} as const;

export const SECRETS = {
  /** Object store root credentials (MinIO existingSecret keys rootUser/rootPassword; SeaweedFS s3 config). */
  objectStoreRoot: 'object-store-credentials',
  /** In every job namespace: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_REGION. */
  jobS3: 'object-store-s3',
  airflowMetadata: 'airflow-metadata',
  airflowPostgres: 'airflow-postgres',
  airflowFernetKey: 'airflow-fernet-key',
  airflowApiSecretKey: 'airflow-api-secret-key',
  airflowJwtSecret: 'airflow-jwt-secret',
  airflowAdmin: 'airflow-admin',
  airflowConnections: 'airflow-connections',
} as const;

export const POSTGRES = {
  name: 'airflow-postgres',
  database: 'airflow',
  user: 'airflow',
  port: 5432,
  podLabel: { 'app.kubernetes.io/name': 'koala-postgres' },
} as const;

/** Every namespace koala runs workloads in (personas and NetworkPolicies cover exactly these). */
export function platformNamespaces(config: KoalaConfig): string[] {
  const n = config.namespaces;
  return [n.sparkOperator, ...config.spark.jobNamespaces, n.objectStore, n.airflow];
}

/** Platform namespaces plus the system namespace (releases, persona ServiceAccounts). */
export function allNamespaces(config: KoalaConfig): string[] {
  return [config.namespaces.system, ...platformNamespaces(config)];
}

/** The data components; koala's own parts (namespaces, RBAC, policies) exist to serve them. */
export const DATA_COMPONENTS = ['spark-operator', 'object-store', 'airflow'] as const;

export function anyDataComponent(config: KoalaConfig): boolean {
  return DATA_COMPONENTS.some((id) => config.components[id]?.enabled !== false);
}
