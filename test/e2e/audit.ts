import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { World } from '../support/cli.ts';

export interface AuditEvent {
  verb: string;
  requestURI: string;
  userAgent?: string;
  user: { username: string };
  responseStatus?: { code: number };
}

/**
 * The API-server audit log of a cluster made by the kind stand-in (writes only; see
 * test/testbed/audit-policy.yaml).
 */
export function auditLog(world: World, cluster: string): AuditEvent[] {
  const file = path.join(
    world.state,
    'kind',
    'clusters',
    cluster,
    'kwok',
    'clusters',
    `kind-${cluster}`,
    'logs',
    'audit.log',
  );
  if (!existsSync(file)) throw new Error(`no audit log at ${file}`);
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditEvent);
}

/** Writes made by koala (client-node) or the Helm it drives, as opposed to the control plane's own. */
export function clientWrites(events: AuditEvent[]): AuditEvent[] {
  return events.filter((e) => /^(kubernetes-client-javascript|Helm\/|helm)/.test(e.userAgent ?? ''));
}
