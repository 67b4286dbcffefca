import type { KoalaConfig } from '../../config/schema.ts';
import { AIRFLOW_TASK_SERVICE_ACCOUNTS } from '../airflow/values.ts';
import { platformNamespaces } from '../names.ts';

/**
 * The Admin, Edit and View personas, and what Airflow may do: the design as data. The chart
 * renders the bindings from PERSONAS; docs/rbac.md and the SubjectAccessReview test read
 * ACCESS_DESIGN, so the documented matrix and the tested one are the same table.
 */

export type PersonaName = 'admin' | 'edit' | 'view';

export interface Persona {
  name: PersonaName;
  /** The built-in ClusterRole bound in every platform namespace. */
  clusterRole: PersonaName;
  /** Client certificates carry it as O=…; the API server reads it as a group. */
  group: string;
  /** For token kubeconfigs: a ServiceAccount in the system namespace, bound like the group. */
  serviceAccount: string;
  summary: string;
}

export const PERSONAS: readonly Persona[] = [
  {
    name: 'admin',
    clusterRole: 'admin',
    group: 'koala:admins',
    serviceAccount: 'koala-admin',
    summary: 'everything in the platform namespaces, Roles and RoleBindings included',
  },
  {
    name: 'edit',
    clusterRole: 'edit',
    group: 'koala:editors',
    serviceAccount: 'koala-edit',
    summary: 'workloads, SparkApplications and Secrets in the platform namespaces; no RBAC',
  },
  {
    name: 'view',
    clusterRole: 'view',
    group: 'koala:viewers',
    serviceAccount: 'koala-view',
    summary: 'read-only in the platform namespaces (logs yes, Secrets no)',
  },
];

export function persona(name: string): Persona | undefined {
  return PERSONAS.find((p) => p.name === name);
}

export type Subject = PersonaName | 'airflow';
export type Scope = 'jobs' | 'airflow' | 'outside' | 'cluster';

export interface AccessCheck {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  scope: Scope;
  /** For namespaces (cluster scope): which one, by the role it plays. */
  name?: 'jobs' | 'kube-system';
  allowed: Record<Subject, boolean>;
}

const SPARK = 'sparkoperator.k8s.io';
const all = { admin: true, edit: true, view: true, airflow: true };
const none = { admin: false, edit: false, view: false, airflow: false };
const writers = { admin: true, edit: true, view: false, airflow: false };
const personasOnly = { admin: true, edit: true, view: true, airflow: false };

/** Verbs × resources × namespaces, and who may. */
export const ACCESS_DESIGN: readonly AccessCheck[] = [
  {
    verb: 'create',
    group: SPARK,
    resource: 'sparkapplications',
    scope: 'jobs',
    allowed: { ...writers, airflow: true },
  },
  { verb: 'get', group: SPARK, resource: 'sparkapplications', scope: 'jobs', allowed: all },
  { verb: 'watch', group: SPARK, resource: 'sparkapplications', scope: 'jobs', allowed: all },
  {
    verb: 'delete',
    group: SPARK,
    resource: 'sparkapplications',
    scope: 'jobs',
    allowed: { ...writers, airflow: true },
  },
  { verb: 'patch', group: SPARK, resource: 'sparkapplications', scope: 'jobs', allowed: writers },
  { verb: 'create', group: SPARK, resource: 'sparkapplications', scope: 'airflow', allowed: writers },
  { verb: 'create', group: SPARK, resource: 'sparkapplications', scope: 'outside', allowed: none },
  { verb: 'get', group: SPARK, resource: 'scheduledsparkapplications', scope: 'jobs', allowed: personasOnly },
  { verb: 'get', group: '', resource: 'pods', scope: 'jobs', allowed: all },
  { verb: 'list', group: '', resource: 'pods', scope: 'jobs', allowed: all },
  { verb: 'create', group: '', resource: 'pods', scope: 'jobs', allowed: writers },
  { verb: 'delete', group: '', resource: 'pods', scope: 'jobs', allowed: writers },
  { verb: 'get', group: '', resource: 'pods', subresource: 'log', scope: 'jobs', allowed: all },
  { verb: 'create', group: '', resource: 'pods', subresource: 'exec', scope: 'jobs', allowed: writers },
  { verb: 'get', group: '', resource: 'pods', scope: 'airflow', allowed: personasOnly },
  { verb: 'create', group: '', resource: 'pods', scope: 'airflow', allowed: writers },
  { verb: 'get', group: '', resource: 'pods', scope: 'outside', allowed: none },
  { verb: 'get', group: '', resource: 'secrets', scope: 'jobs', allowed: writers },
  { verb: 'list', group: '', resource: 'secrets', scope: 'airflow', allowed: writers },
  { verb: 'get', group: '', resource: 'secrets', scope: 'outside', allowed: none },
  {
    verb: 'create',
    group: 'rbac.authorization.k8s.io',
    resource: 'roles',
    scope: 'jobs',
    allowed: { ...none, admin: true },
  },
  {
    verb: 'create',
    group: 'rbac.authorization.k8s.io',
    resource: 'rolebindings',
    scope: 'airflow',
    allowed: { ...none, admin: true },
  },
  {
    verb: 'get',
    group: 'rbac.authorization.k8s.io',
    resource: 'roles',
    scope: 'jobs',
    allowed: { ...none, admin: true },
  },
  { verb: 'get', group: '', resource: 'namespaces', scope: 'cluster', name: 'jobs', allowed: personasOnly },
  { verb: 'get', group: '', resource: 'namespaces', scope: 'cluster', name: 'kube-system', allowed: none },
  { verb: 'list', group: '', resource: 'namespaces', scope: 'cluster', allowed: none },
  { verb: 'create', group: '', resource: 'namespaces', scope: 'cluster', allowed: none },
  { verb: 'delete', group: '', resource: 'namespaces', scope: 'cluster', name: 'jobs', allowed: none },
];

/** Values for the rbac section of koala's chart. */
export function rbacValues(config: KoalaConfig): Record<string, unknown> {
  return {
    sections: { rbac: true },
    rbac: {
      // Cluster-scoped names carry the system namespace, so two platforms never collide.
      prefix: config.namespaces.system,
      personas: PERSONAS.map(({ name, clusterRole, group, serviceAccount }) => ({
        name,
        clusterRole,
        group,
        serviceAccount,
      })),
      namespaces: platformNamespaces(config),
      serviceAccountNamespace: config.namespaces.system,
      airflow: {
        namespace: config.namespaces.airflow,
        serviceAccounts: AIRFLOW_TASK_SERVICE_ACCOUNTS,
        jobNamespaces: [...config.spark.jobNamespaces],
      },
    },
  };
}
