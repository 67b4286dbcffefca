import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { EnvValue } from '../config/env.ts';
import type { KoalaConfig } from '../config/schema.ts';
import type { ClusterSpec } from '../cluster/spec.ts';
import { maybeInContainer } from '../cluster/beside-kind.ts';
import { clusterTarget, contextHome, type ClusterTarget } from '../cluster/target.ts';
import { Kube, type KubeTarget } from '../kube/client.ts';
import { clusterHome } from '../util/paths.ts';

/**
 * Everything a step or component needs to know about the platform it works on. Built once per
 * command; the Kubernetes connection is opened on first use.
 */
export interface PlatformContext {
  config: KoalaConfig;
  env: ReadonlyMap<string, EnvValue>;
  spec: ClusterSpec;
  /** koala's kind cluster, or a cluster it did not create (cluster.context). */
  target: ClusterTarget;
  kubeTarget: KubeTarget;
  /** Directory for this cluster's local state and credentials (0700). */
  home: string;
  /** --recreate: delete the cluster first, even if it matches. */
  recreate: boolean;
  kube(): Promise<Kube>;
}

export function createPlatformContext(options: {
  config: KoalaConfig;
  env: ReadonlyMap<string, EnvValue>;
  spec: ClusterSpec;
  recreate?: boolean;
  processEnv?: NodeJS.ProcessEnv;
}): PlatformContext {
  const processEnv = options.processEnv ?? process.env;
  // KUBECONFIG may list several files; client-node merges them like kubectl when none is named.
  const target = clusterTarget(options.config);
  const kubeTarget: KubeTarget = { context: target.context };
  let connection: Promise<Kube> | undefined;
  let connectedTo = '';
  const open = async (): Promise<Kube> => {
    // In a container beside kind's nodes (a devcontainer on the host's Docker) kind's 127.0.0.1 is
    // the host's: join kind's network and use the nodes' own address for the API server.
    if (target.kind === 'kind' && maybeInContainer(processEnv)) {
      const { reachFromContainer } = await import('../cluster/beside-kind.ts');
      const changed = await reachFromContainer(options.spec, { env: processEnv });
      if (changed.length > 0) connectedTo = kubeconfigStamp(processEnv);
    }
    return Kube.connect(kubeTarget);
  };
  return {
    config: options.config,
    env: options.env,
    spec: options.spec,
    target,
    kubeTarget,
    home: target.kind === 'existing' ? contextHome(target.context, processEnv) : clusterHome(target.name, processEnv),
    recreate: options.recreate ?? false,
    kube() {
      // kind rewrites the kubeconfig when it (re)creates a cluster: reconnect when it changed.
      const stamp = kubeconfigStamp(processEnv);
      if (stamp !== connectedTo) connection = undefined;
      connectedTo = stamp;
      connection ??= open().catch((error: unknown) => {
        connection = undefined; // a later call may succeed once the cluster exists
        throw error;
      });
      return connection;
    },
  };
}

/** Size and mtime of every kubeconfig file, to tell when one was rewritten. */
function kubeconfigStamp(env: NodeJS.ProcessEnv): string {
  const files = env.KUBECONFIG
    ? env.KUBECONFIG.split(path.delimiter).filter(Boolean)
    : [path.join(os.homedir(), '.kube', 'config')];
  return files
    .map((file) => {
      try {
        const s = statSync(file);
        return `${file}:${s.size}:${s.mtimeMs}`;
      } catch {
        return `${file}:-`;
      }
    })
    .join('|');
}
