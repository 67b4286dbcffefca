import type { KoalaConfig } from '../config/schema.ts';
import type { Component, Endpoint, PlatformService } from './component.ts';
import type { ComponentDeclaration } from './declaration.ts';
import { DECLARATIONS } from './index.ts';

/**
 * What `koala port-forward <name>` reaches: the Service, its port, and the host port from
 * koala.yaml (ports.*). Each component declares its services (its declaration.ts); this table,
 * the job loop's port-forward targets and the endpoints at the end of `koala up` all read them.
 */
export type PortForwardTarget = Omit<PlatformService, 'name'>;

/** Every named service of every component, on or off (a port-forward to one that is off says so). */
export function portForwardTargets(
  config: KoalaConfig,
  components: readonly Pick<ComponentDeclaration, 'id' | 'services'>[] = DECLARATIONS,
): Record<string, PortForwardTarget> {
  return Object.fromEntries(
    components.flatMap((c) => c.services?.(config) ?? []).map(({ name, ...target }) => [name, target]),
  );
}

/** The endpoints of a component that lists none of its own: its services, by host port or port-forward. */
export function serviceEndpoints(config: KoalaConfig, component: Component): Endpoint[] {
  return (component.services?.(config) ?? []).map((s) => ({
    name: s.description,
    url: s.localPort ? `http://127.0.0.1:${s.localPort}` : '(through port-forward)',
    portForward: `koala port-forward ${s.name}`,
  }));
}
