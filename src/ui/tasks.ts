import type { TaskHealth } from '../tasks/health.ts';
import type { TasksGateway } from '../tasks/publish.ts';
import type { TasksDeployResult } from '../tasks/run.ts';
import { table } from './table.ts';

/** A dry run: the objects as YAML documents; a deploy: what happened to each object, and what next. */
export async function renderTasksDeploy(result: TasksDeployResult): Promise<string> {
  if (result.dryRun) {
    const { dump } = await import('js-yaml');
    const images = result.images.map((i) => `# ${i.task}: ${i.image} (${i.reason})`);
    if (result.storage.length > 0)
      images.push(
        `# ${result.storage.join(', ')}: the object store's Secret and ConfigMap, copied from the first ` +
          'Spark job namespace into this one (not shown: the Secret holds keys)',
      );
    const routes = (result.gateway?.routes ?? []).map((r) => `# ${r.task}: would be published at ${r.url}`);
    return [...images, ...routes, ...result.manifests.map((m) => `---\n${dump(m, { noRefs: true }).trimEnd()}`)].join(
      '\n',
    );
  }
  const rows = result.objects.map((o) => [o.task, `${o.kind.toLowerCase()}/${o.name}`, o.action]);
  const changed = result.objects.filter((o) => o.action !== 'unchanged').length;
  return [
    table(['TASK', 'OBJECT', 'RESULT'], rows),
    '',
    changed === 0
      ? `Nothing changed in namespace ${result.namespace}.`
      : `${changed} object(s) changed in namespace ${result.namespace}.`,
    ...(result.gateway ? gatewayLines(result.gateway) : []),
    `Next: \`koala tasks list -n ${result.namespace}\` shows their health.`,
  ].join('\n');
}

function gatewayLines(gateway: TasksGateway): string[] {
  const where = gateway.base ? '' : ' (no host port: `koala port-forward gateway`, then the path)';
  const lines = gateway.routes.map(
    (r) => `  ${r.task}: ${r.url}${r.access ? ` (sign in as ${r.access}: \`koala credentials\`)` : ' (public)'}`,
  );
  if (!gateway.served) return [`Published, not served yet: ${gateway.note ?? ''}`, ...lines];
  const fresh = gateway.newGroups.length > 0 ? `; new credentials for ${gateway.newGroups.join(', ')}` : '';
  return [`Published through the gateway${where}${fresh}:`, ...lines];
}

export function renderTasksList(namespace: string, tasks: TaskHealth[]): string {
  if (tasks.length === 0)
    return `No tasks in namespace ${namespace}. Deploy some with \`koala tasks deploy <folder>\`.`;
  return table(
    ['TASK', 'KIND', 'HEALTH', 'DETAIL'],
    tasks.map((t) => [t.name, t.kind, t.ok ? 'ok' : 'failing', t.url ? `${t.detail}; ${t.url}` : t.detail]),
  );
}
