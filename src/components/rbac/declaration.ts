import type { ComponentDeclaration } from '../declaration.ts';

/** The admin, edit and view personas: a release of koala's chart in the system namespace. */
export const RBAC = {
  id: 'rbac',
  configKey: 'rbac',
  releases: { rbac: 'koala-rbac' },
  load: async () => (await import('./index.ts')).rbac,
} as const satisfies ComponentDeclaration;
