import { Flags } from '@oclif/core';

/**
 * The one way to pick a cluster, shared by every command that acts on one: --name, else
 * KOALA_CLUSTER_NAME, else cluster.name in koala.yaml, else "koala"; or, for a cluster koala did
 * not create, --context (KOALA_CONTEXT, cluster.context). The config loader resolves and
 * validates them, so every command agrees on the cluster and its rules.
 */
export const clusterFlags = {
  name: Flags.string({
    description: 'The kind cluster to act on (default: KOALA_CLUSTER_NAME, else cluster.name, else koala).',
    helpGroup: 'CLUSTER',
  }),
  context: Flags.string({
    description:
      'Act on the cluster of this kubeconfig context instead, one koala did not create: no kind, no local registry ' +
      '(KOALA_CONTEXT, cluster.context).',
    helpGroup: 'CLUSTER',
  }),
};

export interface ClusterFlagValue {
  path: string;
  value: unknown;
  flag: string;
}

/** The flag values `loadConfig` layers over koala.yaml and the environment. */
export function clusterSelection(flags: {
  name?: string | undefined;
  context?: string | undefined;
}): ClusterFlagValue[] {
  return [
    { path: 'cluster.name', value: flags.name, flag: 'name' },
    { path: 'cluster.context', value: flags.context, flag: 'context' },
  ];
}
