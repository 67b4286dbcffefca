import type { PlatformStatus } from '../platform/status.ts';
import { table } from './table.ts';

export function renderStatus(s: PlatformStatus): string {
  const out: string[] = [];
  const c = s.cluster;
  out.push(`Cluster "${c.name}": ${c.reachable ? `running, Kubernetes ${c.version ?? '?'} (context ${c.context})` : c.exists ? `exists but not reachable${c.detail ? ` (${c.detail})` : ''}` : 'not created'}`);
  if (s.nodes.length > 0) {
    out.push('', table(['NODE', 'ROLE', 'READY', 'VERSION'], s.nodes.map((n) => [n.name, n.role, n.ready ? 'yes' : 'NO', n.version])).split('\n').map((l) => `  ${l}`).join('\n'));
  }
  if (s.components.length > 0) {
    out.push('', table(['COMPONENT', 'HEALTH', 'DETAIL'], s.components.map((x) => [x.id, x.ok ? 'ok' : x.missing ? 'missing' : 'UNHEALTHY', x.detail])).split('\n').map((l) => `  ${l}`).join('\n'));
  }
  out.push('', s.healthy ? 'All healthy.' : c.exists ? 'Not healthy. `koala up` repairs what it can; `koala up --only <step>` retries one step.' : 'Run `koala up` to create it.');
  return out.join('\n');
}
