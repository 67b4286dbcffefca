import { clusterSpec, resolveNodeImage } from '../cluster/spec.ts';
import type { LoadedConfig } from '../config/load.ts';
import { createPlatformContext, type PlatformContext } from './context.ts';

/**
 * The context of every command but `up`: they act on a cluster that already exists (status,
 * down, logs, run, build, apps, port-forward, credentials, users, dags sync, doctor) and so need
 * its name and settings, not host facts: no preflight, no Docker calls.
 */
export function existingClusterContext(loaded: LoadedConfig): PlatformContext {
  const spec = clusterSpec(loaded.config, resolveNodeImage(loaded.config.cluster, undefined));
  return createPlatformContext({ config: loaded.config, env: loaded.env, spec });
}
