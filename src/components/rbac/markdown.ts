import type { KoalaConfig } from '../../config/schema.ts';
import { AIRFLOW_TASK_SERVICE_ACCOUNTS } from '../airflow/values.ts';
import { platformNamespaces } from '../names.ts';
import { ACCESS_DESIGN, PERSONAS, type AccessCheck } from './personas.ts';

/** The RBAC design as the Markdown of docs/rbac.md (a unit test keeps the file in step). */
export function rbacMarkdown(config: KoalaConfig): string {
  const scope = (c: AccessCheck): string => {
    switch (c.scope) {
      case 'jobs':
        return `a job namespace (\`${config.spark.jobNamespaces[0]}\`)`;
      case 'airflow':
        return `\`${config.namespaces.airflow}\``;
      case 'outside':
        return '`kube-system` (outside the platform)';
      case 'cluster':
        return c.name === 'jobs'
          ? 'the namespace object of a job namespace'
          : c.name === 'kube-system'
            ? 'the namespace object `kube-system`'
            : 'cluster-wide';
    }
  };
  const mark = (b: boolean): string => (b ? 'yes' : '-');
  const code = (names: readonly string[]): string => names.map((n) => `\`${n}\``).join(', ');
  const row = (c: AccessCheck): string => {
    const resource = c.subresource ? `${c.resource}/${c.subresource}` : c.resource;
    const { admin, edit, view, airflow } = c.allowed;
    const cells = [c.verb, resource, scope(c), mark(admin), mark(edit), mark(view), mark(airflow)];
    return `| ${cells.join(' | ')} |`;
  };
  return [
    '# RBAC: the admin, edit and view personas, and what Airflow may do',
    '',
    '<!-- Generated from src/components/rbac/personas.ts by `node scripts/docs/generate.ts`; ' +
      'test/unit/platform keeps it in step. Do not edit by hand. -->',
    '',
    'Each persona is bound to the built-in ClusterRole of its name in every platform namespace ' +
      `(${code(platformNamespaces(config))}) and nowhere else.`,
    'SparkApplications join those roles through aggregated ClusterRoles, so the bindings cover them. Each persona is',
    'a group (a client certificate from `koala users kubeconfig <persona>` carries it as O=…) and a ServiceAccount',
    `in \`${config.namespaces.system}\` (for \`--method token\`).`,
    '',
    '| Persona | Group | ServiceAccount | In short |',
    '| --- | --- | --- | --- |',
    ...PERSONAS.map((p) => `| ${p.name} | \`${p.group}\` | \`${p.serviceAccount}\` | ${p.summary} |`),
    '',
    'Airflow runs tasks under the LocalExecutor in the scheduler (deferred ones in the triggerer); ' +
      `their ServiceAccounts (${code(AIRFLOW_TASK_SERVICE_ACCOUNTS)}) get one Role in each job namespace ` +
      "and no other rights: the chart's own RBAC is off.",
    '',
    '## Who may do what',
    '',
    'Every row is checked against the API server (SubjectAccessReview) by test/integration/rbac.test.ts.',
    '',
    '| Verb | Resource | Where | admin | edit | view | Airflow |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...ACCESS_DESIGN.map(row),
    '',
  ].join('\n');
}
