import type { TaskHealth } from '../tasks/health.ts';
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
    return [...images, ...result.manifests.map((m) => `---\n${dump(m, { noRefs: true }).trimEnd()}`)].join('\n');
  }
  const rows = result.objects.map((o) => [o.task, `${o.kind.toLowerCase()}/${o.name}`, o.action]);
  const changed = result.objects.filter((o) => o.action !== 'unchanged').length;
  return [
    table(['TASK', 'OBJECT', 'RESULT'], rows),
    '',
    changed === 0
      ? `Nothing changed in namespace ${result.namespace}.`
      : `${changed} object(s) changed in namespace ${result.namespace}.`,
    `Next: \`koala tasks list -n ${result.namespace}\` shows their health.`,
  ].join('\n');
}

export function renderTasksList(namespace: string, tasks: TaskHealth[]): string {
  if (tasks.length === 0)
    return `No tasks in namespace ${namespace}. Deploy some with \`koala tasks deploy <folder>\`.`;
  return table(
    ['TASK', 'KIND', 'HEALTH', 'DETAIL'],
    tasks.map((t) => [t.name, t.kind, t.ok ? 'ok' : 'failing', t.detail]),
  );
}
