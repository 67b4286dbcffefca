import { existsSync } from 'node:fs';
import os from 'node:os';
import { contextServer } from '../kube/client.ts';
import { runTool } from '../tools/exec.ts';
import { KoalaError } from '../util/errors.ts';
import { KIND_NETWORK, firstControlPlane, hasLoadBalancer, loadBalancerName, kubeContext } from './names.ts';

/**
 * koala in a container beside kind's nodes: a devcontainer that uses the host's Docker through
 * its socket. kind publishes the API server on the host's 127.0.0.1, which is not the
 * container's, so koala joins its own container to kind's network and points the cluster's
 * kubeconfig context at the address the nodes use among themselves (`kind export kubeconfig
 * --internal`): the first control plane, or the load balancer in front of several. koala,
 * helm and the user's kubectl then all reach it, from `up` on and in every command after.
 * With Docker inside the container (docker-in-docker) the daemon does not know the container
 * and kind's 127.0.0.1 is the container's own: nothing is needed then.
 */

/** Marks a process in a Docker container; KOALA_CONTAINER names the container when its hostname does not. */
export function maybeInContainer(env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.KOALA_CONTAINER === '0') return false;
  return Boolean(env.KOALA_CONTAINER) || existsSync('/.dockerenv');
}

export interface ContainerSelf {
  id: string;
  networks: string[];
}

/** This process's container as the Docker daemon koala uses sees it; undefined where that daemon does not run it. */
export async function containerSelf(
  env: NodeJS.ProcessEnv = process.env,
  signal?: AbortSignal,
): Promise<ContainerSelf | undefined> {
  if (!maybeInContainer(env)) return undefined;
  const name = env.KOALA_CONTAINER || os.hostname();
  const result = await runTool({
    tool: 'docker',
    args: [
      'container',
      'inspect',
      '--format',
      '{{.Id}} {{range $n, $_ := .NetworkSettings.Networks}}{{$n}} {{end}}',
      name,
    ],
    okExitCodes: [1],
    timeoutMs: 30_000,
    ...(signal ? { signal } : {}),
  });
  if (result.exitCode !== 0) return undefined;
  const [id, ...networks] = result.stdout.trim().split(/\s+/);
  return id ? { id, networks } : undefined;
}

/** The API server's address on kind's network, as `kind get kubeconfig --internal` writes it. */
export function internalServer(cluster: { name: string; controlPlanes: number }): string {
  const host = hasLoadBalancer(cluster.controlPlanes)
    ? loadBalancerName(cluster.name)
    : firstControlPlane(cluster.name);
  return `https://${host}:6443`;
}

/**
 * Make kind cluster `name` reachable from this container: join kind's network, and rewrite the
 * kubeconfig context to the internal address when it holds another. Returns what it changed.
 */
export async function reachFromContainer(
  cluster: { name: string; controlPlanes: number },
  options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {},
): Promise<string[]> {
  const env = options.env ?? process.env;
  const self = await containerSelf(env, options.signal);
  if (!self) return [];
  const changed: string[] = [];
  const call = (tool: 'docker' | 'kind', args: string[], okExitCodes: number[] = []) =>
    runTool({ tool, args, timeoutMs: 60_000, okExitCodes, ...(options.signal ? { signal: options.signal } : {}) });
  if (!self.networks.includes(KIND_NETWORK)) {
    // There is no network before the first cluster: then kind makes it, and the next call joins.
    const joined = await call('docker', ['network', 'connect', KIND_NETWORK, self.id], [1]);
    if (joined.exitCode === 0) changed.push(`joined this container to Docker network "${KIND_NETWORK}"`);
    else if (!/already exists|not found/i.test(joined.stderr))
      throw new KoalaError(
        `Could not join this container (${self.id.slice(0, 12)}) to Docker network "${KIND_NETWORK}"`,
        {
          hint:
            `Docker said: ${joined.stderr.trim()}. Set KOALA_CONTAINER to this container's name if its hostname is ` +
            'not its id, or KOALA_CONTAINER=0 where the API server is reachable as kind published it.',
        },
      );
  }
  const wanted = internalServer(cluster);
  if ((await contextServer({ context: kubeContext(cluster.name) })) !== wanted) {
    const exported = await call('kind', ['export', 'kubeconfig', '--internal', '--name', cluster.name], [1]);
    if (exported.exitCode === 0) changed.push(`context ${kubeContext(cluster.name)} now points at ${wanted}`);
  }
  return changed;
}

/**
 * A request to koala's local registry: on the host through its published port; from a container
 * beside kind, where the host's 127.0.0.1 is not this one, by its name on kind's network.
 */
export async function fetchRegistry(
  registry: { name: string; port: number },
  urlPath: string,
  init: { method?: string; headers?: Record<string, string>; signal?: AbortSignal; timeoutMs: number },
): Promise<Response> {
  const bases = [`http://127.0.0.1:${registry.port}`, ...(maybeInContainer() ? [`http://${registry.name}:5000`] : [])];
  let lastError: unknown;
  for (const base of bases) {
    const timeout = AbortSignal.timeout(init.timeoutMs);
    try {
      return await fetch(`${base}${urlPath}`, {
        ...(init.method ? { method: init.method } : {}),
        ...(init.headers ? { headers: init.headers } : {}),
        signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout,
      });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      lastError = error;
    }
  }
  throw lastError;
}
