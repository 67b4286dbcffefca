import type { ComponentDeclaration } from '../declaration.ts';

/** The local image registry: a container beside the cluster, so it has no namespace or release. */
export const REGISTRY = {
  id: 'registry',
  load: async () => (await import('./index.ts')).registry,
} as const satisfies ComponentDeclaration;
