import { firstControlPlane } from '../../cluster/names.ts';
import { docker, inspectContainer } from '../../tools/docker.ts';
import { kindClusters } from '../../tools/kind.ts';

/**
 * One registry serves every cluster that names it, as in kind's local-registry recipe: images
 * pushed once are pulled by each cluster. Which clusters use it is read from the clusters
 * themselves, not from a record that could go stale: a cluster uses the registry when its
 * containerd sends localhost:<port> to the registry container (the hosts.toml koala writes).
 */

export function registryHostsDir(port: number): string {
  return `/etc/containerd/certs.d/localhost:${port}`;
}

export function registryHostsToml(name: string): string {
  // containerd on the nodes reaches the registry by container name over the kind network.
  return `[host."http://${name}:5000"]\n`;
}

export interface RegistryUse {
  cluster: string;
  /** false: its first node is not running, so whether it uses the registry cannot be read. */
  known: boolean;
}

/** The kind clusters other than `except` that use (or may use) this registry. */
export async function otherRegistryUsers(
  registry: { name: string; port: number },
  except: string,
  signal?: AbortSignal,
): Promise<RegistryUse[]> {
  const wanted = registryHostsToml(registry.name);
  const file = `${registryHostsDir(registry.port)}/hosts.toml`;
  const others = (await kindClusters(signal)).filter((c) => c !== except);
  const uses = await Promise.all(
    others.map(async (cluster): Promise<RegistryUse | undefined> => {
      // Every node gets the same hosts.toml, and every kind cluster has a first control plane.
      const node = firstControlPlane(cluster);
      const state = await inspectContainer(node, signal);
      if (!state?.running) return { cluster, known: false };
      const content = await docker(['exec', node, 'cat', file], { ...(signal ? { signal } : {}), okExitCodes: [1] });
      // execa drops the final newline of the output.
      return `${content}\n` === wanted ? { cluster, known: true } : undefined;
    }),
  );
  return uses.filter((u): u is RegistryUse => u !== undefined);
}

/** Why the registry stays, for the user: `cluster "a" uses it`. */
export function describeUsers(uses: readonly RegistryUse[]): string {
  return uses
    .map((u) => {
      if (u.known) return `cluster "${u.cluster}" uses it`;
      return `cluster "${u.cluster}" may use it (${firstControlPlane(u.cluster)} is not running)`;
    })
    .join('; ');
}
