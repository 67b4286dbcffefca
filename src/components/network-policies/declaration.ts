import type { ComponentDeclaration } from '../declaration.ts';

/** Default-deny and the allow matrix: a release of koala's chart (switched by networkPolicies.enabled). */
export const NETWORK_POLICIES = {
  id: 'network-policies',
  releases: { networkPolicies: 'koala-network-policies' },
  load: async () => (await import('./index.ts')).networkPolicies,
} as const satisfies ComponentDeclaration;
