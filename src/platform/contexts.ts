import { clusterSpec, resolveNodeImage } from '../cluster/spec.ts';
import type { LoadedConfig } from '../config/load.ts';
import { createPlatformContext, type PlatformContext } from './context.ts';

/**
 * A context for commands that look at an existing cluster (status, down, logs, run, …) and so
 * need its name and settings, not host facts: no preflight, no Docker calls.
 */
export function statusContext(loaded: LoadedConfig): PlatformContext {
  const spec = clusterSpec(loaded.config, resolveNodeImage(loaded.config.cluster, undefined));
  return createPlatformContext({ config: loaded.config, env: loaded.env, spec });
}
