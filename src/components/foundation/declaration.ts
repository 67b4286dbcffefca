import type { ComponentDeclaration } from '../declaration.ts';

/** The namespaces and credentials: a release of koala's chart in the system namespace. */
export const FOUNDATION = {
  id: 'platform',
  releases: { platform: 'koala-platform' },
  load: async () => (await import('./index.ts')).foundation,
} as const satisfies ComponentDeclaration;
