import { createHash } from 'node:crypto';
import path from 'node:path';
import type { KoalaConfig } from '../config/schema.ts';
import { koalaHome } from '../util/paths.ts';
import { kubeContext } from './names.ts';

/**
 * Where the platform lives: koala's own kind cluster, or a cluster koala did not create, named
 * by its kubeconfig context (cluster.context). On the second koala makes no kind cluster and no
 * local registry, and `down` removes what koala installed, never the cluster.
 */
export type ClusterTarget =
  { kind: 'kind'; name: string; context: string } | { kind: 'existing'; name: string; context: string };

export function clusterTarget(config: Pick<KoalaConfig, 'cluster'>): ClusterTarget {
  const { name, context } = config.cluster;
  return context ? { kind: 'existing', name, context } : { kind: 'kind', name, context: kubeContext(name) };
}

export function isExistingCluster(config: Pick<KoalaConfig, 'cluster'>): boolean {
  return clusterTarget(config).kind === 'existing';
}

/**
 * The state directory of a cluster koala did not create: one per context. Context names may hold
 * any character (`arn:aws:eks:…/name`, `user@cluster`), so the directory name keeps the safe ones
 * and a short hash of the whole name keeps two contexts apart.
 */
export function contextHome(context: string, env: NodeJS.ProcessEnv = process.env): string {
  const safe = context.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60);
  const hash = createHash('sha256').update(context).digest('hex').slice(0, 8);
  return path.join(koalaHome(env), 'contexts', `${safe}-${hash}`);
}

/** The kind cluster a context belongs to, when it is named as kind names its contexts. */
export function kindClusterOfContext(context: string): string | undefined {
  return /^kind-(.+)$/.exec(context)?.[1];
}
