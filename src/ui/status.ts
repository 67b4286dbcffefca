import type { PlatformStatus } from '../orchestration/status.ts';
import { table } from './table.ts';

export function renderStatus(s: PlatformStatus): string {
  const out: string[] = [];
  const c = s.cluster;
  const state = c.reachable
    ? `running, Kubernetes ${c.version ?? '?'} (context ${c.context})`
    : c.exists
      ? `exists but not reachable${c.detail ? ` (${c.detail})` : ''}`
      : c.existing
        ? (c.detail ?? 'no such context')
        : notCreated(c.others);
  out.push(
    c.existing
      ? `Cluster of context "${c.context}" (koala did not create it): ${state}`
      : `Cluster "${c.name}": ${state}`,
  );
  if (s.nodes.length > 0) {
    out.push(
      '',
      table(
        ['NODE', 'ROLE', 'READY', 'VERSION'],
        s.nodes.map((n) => [n.name, n.role, n.ready ? 'yes' : 'NO', n.version]),
      )
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  if (s.components.length > 0) {
    out.push(
      '',
      table(
        ['COMPONENT', 'HEALTH', 'DETAIL'],
        s.components.map((x) => [x.id, x.ok ? 'ok' : x.missing ? 'missing' : 'UNHEALTHY', x.detail]),
      )
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  const problems = s.components.flatMap((x) => (x.problems ?? []).map((line) => `  ${x.id}: ${line}`));
  if (problems.length > 0) out.push('', ...problems);
  if (s.tasks) {
    out.push(
      '',
      table(
        [`TASK (namespace ${s.tasks.namespace})`, 'KIND', 'HEALTH', 'DETAIL'],
        s.tasks.items.map((t) => [t.name, t.kind, t.ok ? 'ok' : 'FAILING', t.url ? `${t.detail}; ${t.url}` : t.detail]),
      )
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  const repair = 'Not healthy. `koala up` repairs what it can; `koala up --only <step>` retries one step.';
  const missing = c.existing
    ? 'Check the context name (`kubectl config get-contexts`) and KUBECONFIG.'
    : create(c.others);
  out.push('', s.healthy ? 'All healthy.' : c.exists ? repair : missing);
  return out.join('\n');
}

/** A missing cluster, and the ones kind has: the user may have meant one of them. */
function notCreated(others: string[] | undefined): string {
  if (!others?.length) return 'not created';
  const names = others.map((o) => `"${o}"`).join(', ');
  return `not created (kind has ${others.length === 1 ? 'cluster' : 'clusters'} ${names})`;
}

function create(others: string[] | undefined): string {
  if (!others?.length) return 'Run `koala up` to create it.';
  const commands = others.map((o) => `\`koala status --name ${o}\``).join(', ');
  return `Run \`koala up\` to create it, or look at another: ${commands}.`;
}
