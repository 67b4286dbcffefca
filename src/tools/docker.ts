import { runTool } from './exec.ts';

/** Docker, through its CLI: daemon facts, the registry container, node containers. */

export interface DockerInfo {
  serverVersion: string;
  cgroupVersion: string;
  memTotalBytes: number;
  cpus: number;
  operatingSystem: string;
}

export async function dockerInfo(signal?: AbortSignal): Promise<DockerInfo> {
  const { stdout } = await runTool({
    tool: 'docker',
    args: ['info', '--format', '{{json .}}'],
    timeoutMs: 20_000,
    ...(signal ? { signal } : {}),
  });
  const info = JSON.parse(stdout) as {
    ServerVersion?: string;
    CgroupVersion?: string;
    MemTotal?: number;
    NCPU?: number;
    OperatingSystem?: string;
    ServerErrors?: string[];
  };
  if (!info.ServerVersion) throw new Error(info.ServerErrors?.join('; ') || 'docker info returned no server version');
  return {
    serverVersion: info.ServerVersion,
    cgroupVersion: info.CgroupVersion ?? '',
    memTotalBytes: info.MemTotal ?? 0,
    cpus: info.NCPU ?? 0,
    operatingSystem: info.OperatingSystem ?? '',
  };
}

export interface ContainerState {
  running: boolean;
  status: string;
  networks: string[];
  image: string;
  /** Configured host port bindings, "5000/tcp" → "127.0.0.1:5001" (also while stopped). */
  ports: Record<string, string[]>;
}

/** The state of a container, or undefined when there is none by that name. */
export async function inspectContainer(name: string, signal?: AbortSignal): Promise<ContainerState | undefined> {
  const result = await runTool({
    tool: 'docker',
    args: ['container', 'inspect', '--format', '{{json .}}', name],
    okExitCodes: [1],
    timeoutMs: 20_000,
    ...(signal ? { signal } : {}),
  });
  if (result.exitCode !== 0) return undefined;
  const c = JSON.parse(result.stdout) as {
    State: { Running: boolean; Status: string };
    Config: { Image: string };
    HostConfig?: { PortBindings?: Record<string, Array<{ HostIp: string; HostPort: string }> | null> };
    NetworkSettings: { Networks?: Record<string, unknown> };
  };
  // HostConfig holds what the container was created with; NetworkSettings.Ports is empty
  // while it is stopped, which would make a stopped registry look like a different one.
  const ports: Record<string, string[]> = {};
  for (const [port, bindings] of Object.entries(c.HostConfig?.PortBindings ?? {})) {
    ports[port] = (bindings ?? []).map((b) => `${b.HostIp}:${b.HostPort}`);
  }
  return {
    running: c.State.Running,
    status: c.State.Status,
    networks: Object.keys(c.NetworkSettings.Networks ?? {}),
    image: c.Config.Image,
    ports,
  };
}

/**
 * Names of running containers that publish this host port. Docker's `publish` filter leaves out
 * a container that is created but not running, even with `-a`; inspectContainer's `ports` has
 * what such a container was created with.
 */
export async function containersPublishing(port: number, signal?: AbortSignal): Promise<string[]> {
  const { stdout } = await runTool({
    tool: 'docker',
    args: ['ps', '-a', '--filter', `publish=${port}`, '--format', '{{.Names}}'],
    timeoutMs: 20_000,
    ...(signal ? { signal } : {}),
  });
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

export async function docker(
  args: string[],
  options: { signal?: AbortSignal; input?: string; timeoutMs?: number; okExitCodes?: number[] } = {},
): Promise<string> {
  const { stdout } = await runTool({ tool: 'docker', args, timeoutMs: options.timeoutMs ?? 60_000, ...options });
  return stdout;
}
