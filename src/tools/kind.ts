import { runTool } from './exec.ts';
import { parseVersion, type SemVer } from './version.ts';

/** kind, through its CLI: cluster create/delete and node listing. */

export async function kindVersion(signal?: AbortSignal): Promise<SemVer | undefined> {
  const { stdout } = await runTool({
    tool: 'kind',
    args: ['version'],
    timeoutMs: 15_000,
    ...(signal ? { signal } : {}),
  });
  return parseVersion(stdout);
}

export async function kindClusters(signal?: AbortSignal): Promise<string[]> {
  const { stdout } = await runTool({
    tool: 'kind',
    args: ['get', 'clusters'],
    timeoutMs: 30_000,
    ...(signal ? { signal } : {}),
  });
  // kind prints "No kind clusters found." on stderr when there are none.
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

export async function kindNodes(name: string, signal?: AbortSignal): Promise<string[]> {
  const { stdout } = await runTool({
    tool: 'kind',
    args: ['get', 'nodes', '--name', name],
    timeoutMs: 30_000,
    ...(signal ? { signal } : {}),
  });
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('No kind nodes'));
}

/** The config goes on stdin (`--config -`), so no temporary file is left behind on Ctrl-C. */
export function createClusterArgs(name: string): string[] {
  return ['create', 'cluster', '--name', name, '--config', '-'];
}

export async function createCluster(
  name: string,
  config: string,
  options: { signal?: AbortSignal; timeoutMs: number; onLine?: (l: string) => void; kubeconfig?: string },
): Promise<void> {
  await runTool({
    tool: 'kind',
    args: [...createClusterArgs(name), ...(options.kubeconfig ? ['--kubeconfig', options.kubeconfig] : [])],
    input: config,
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.onLine ? { onLine: options.onLine } : {}),
  });
}

export function deleteClusterArgs(name: string): string[] {
  return ['delete', 'cluster', '--name', name];
}

export async function deleteCluster(
  name: string,
  options: { signal?: AbortSignal; kubeconfig?: string } = {},
): Promise<void> {
  await runTool({
    tool: 'kind',
    args: [...deleteClusterArgs(name), ...(options.kubeconfig ? ['--kubeconfig', options.kubeconfig] : [])],
    timeoutMs: 5 * 60_000,
    ...(options.signal ? { signal: options.signal } : {}),
  });
}
