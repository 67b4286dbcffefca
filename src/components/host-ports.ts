import type { ComponentDeclaration, HostPort } from './declaration.ts';
import { DECLARATIONS } from './index.ts';

/**
 * Every host port the components declare, in NodePort order: the order kind's port mappings,
 * the recorded cluster spec and preflight list them in, whatever the order of the registry list.
 */
export function hostPorts(): Array<HostPort & { key: string; component: string }> {
  return (DECLARATIONS as readonly ComponentDeclaration[])
    .flatMap((d) => Object.entries(d.hostPorts ?? {}).map(([key, port]) => ({ key, ...port, component: d.id })))
    .sort((a, b) => a.nodePort - b.nodePort);
}
