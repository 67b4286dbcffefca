import type { KoalaConfig } from '../config/schema.ts';
import type { ComponentDeclaration, NamespaceRole } from './declaration.ts';
import { DECLARATIONS, type Releases } from './index.ts';

/**
 * Names the components share with each other, with koala's chart, and with the Spark job
 * loop (src/jobs/): one place, so a Secret renamed here is renamed everywhere.
 */

/** Every Helm release the components declare, by the name the code uses (the object store's is its backend's). */
export const RELEASES = Object.assign({}, ...DECLARATIONS.map((d) => ('releases' in d ? d.releases : {}))) as Releases;

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

export { POSTGRES } from './airflow/declaration.ts';

/** Every namespace koala runs workloads in, with its role (personas and NetworkPolicies cover exactly these). */
export function namespaceRoles(config: KoalaConfig): NamespaceRole[] {
  return (DECLARATIONS as readonly ComponentDeclaration[]).flatMap((d) => {
    if (d.workloadNamespaces) return d.workloadNamespaces(config);
    const key = d.namespace?.key;
    return key ? [{ name: (config.namespaces as Record<string, string>)[key] ?? key, role: d.id }] : [];
  });
}

/** Every namespace koala runs workloads in (personas and NetworkPolicies cover exactly these). */
export function platformNamespaces(config: KoalaConfig): string[] {
  return namespaceRoles(config).map((n) => n.name);
}

/** Platform namespaces plus the system namespace (releases, persona ServiceAccounts). */
export function allNamespaces(config: KoalaConfig): string[] {
  return [config.namespaces.system, ...platformNamespaces(config)];
}

/** The data components' keys under koala.yaml `components:`; koala's own parts exist to serve them. */
export const DATA_COMPONENTS: readonly string[] = (DECLARATIONS as readonly ComponentDeclaration[]).flatMap((d) =>
  d.data && d.configKey ? [d.configKey] : [],
);

export function anyDataComponent(config: KoalaConfig): boolean {
  return DATA_COMPONENTS.some((id) => config.components[id]?.enabled !== false);
}
