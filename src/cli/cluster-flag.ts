import { Flags } from '@oclif/core';

/**
 * The one way to pick a cluster, shared by every command that acts on one: --name, else
 * KOALA_CLUSTER_NAME, else cluster.name in koala.yaml, else "koala". The config loader
 * resolves and validates it, so every command agrees on the name and its rules.
 */
export const clusterFlags = {
  name: Flags.string({
    description: 'The kind cluster to act on (default: KOALA_CLUSTER_NAME, else cluster.name, else koala).',
    helpGroup: 'CLUSTER',
  }),
};

export interface ClusterFlagValue {
  path: string;
  value: unknown;
  flag: string;
}

/** The flag values `loadConfig` layers over koala.yaml and the environment. */
export function clusterSelection(flags: { name?: string | undefined }): ClusterFlagValue[] {
  return [{ path: 'cluster.name', value: flags.name, flag: 'name' }];
}
