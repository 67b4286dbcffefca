import { readFile } from 'node:fs/promises';
import net from 'node:net';
import type { KoalaConfig } from '../config/schema.ts';
import { containersPublishing, dockerInfo, inspectContainer, type DockerInfo } from '../tools/docker.ts';
import { ToolError, ToolMissingError } from '../tools/exec.ts';
import { helmVersion } from '../tools/helm.ts';
import { kindVersion } from '../tools/kind.ts';
import { kubectlVersion } from '../tools/kubectl.ts';
import { PINNED_TOOLS, TOOL_PINS, type PinnedTool } from '../tools/pins.ts';
import { atLeast, formatVersion, type SemVer } from '../tools/version.ts';
import { errorMessage } from '../util/errors.ts';
import { NEWEST_FOR_CGROUP_V1 } from './node-images.ts';
import { firstControlPlane, nodeNames } from './names.ts';
import { resolveNodeImage, type ClusterSpec } from './spec.ts';

export type CheckStatus = 'pass' | 'warn' | 'fail';

export interface CheckOutcome {
  id: string;
  title: string;
  status: CheckStatus;
  detail: string;
  /** How to fix it, for warn and fail. */
  fix?: string;
}

/**
 * kind 0.32 is the first to write kubeadm's v1beta4 config (kubeadm 1.37 no longer reads v1beta3)
 * and to load images into the current node images; NetworkPolicies need 0.24+ as well.
 */
export const MIN_KIND = '0.32.0';
export const MIN_HELM3 = '3.19.0';
export const INOTIFY = { max_user_watches: 524288, max_user_instances: 512 } as const;
const GiB = 1024 ** 3;

/** Memory the nodes alone need, and what the platform on top needs as well (rough, measured on kind). */
export function memoryBudget(spec: Pick<ClusterSpec, 'controlPlanes' | 'workers'>): {
  nodes: number;
  platform: number;
} {
  const nodes = spec.controlPlanes * 1.0 * GiB + spec.workers * 0.5 * GiB;
  return { nodes, platform: nodes + 4 * GiB };
}

export interface PreflightInputs {
  config: KoalaConfig;
  spec: ClusterSpec;
  platform: NodeJS.Platform;
  /** Overridable for tests. */
  readProc?: (path: string) => Promise<string>;
  isPortFree?: (port: number) => Promise<boolean>;
  configuredHostPorts?: (container: string) => Promise<number[]>;
}

/**
 * Every check `koala up` runs before it changes anything, and `koala doctor` prints. Checks
 * run in parallel and never throw: a check that cannot run is a failure with a reason.
 */
export async function runPreflight(
  inputs: PreflightInputs,
): Promise<{ outcomes: CheckOutcome[]; docker?: DockerInfo }> {
  const info = dockerInfo().then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const checks: Array<Promise<CheckOutcome>> = [
    guard('docker', 'Docker daemon reachable', async () => {
      const result = await info;
      if (!result.ok)
        return {
          status: 'fail',
          detail: failureLine(result.error),
          fix: 'Start Docker (Docker Desktop, or `sudo systemctl start docker`), then run the command again.',
        };
      return { status: 'pass', detail: `Docker ${result.value.serverVersion} (${result.value.operatingSystem})` };
    }),
    guard('kind', `kind >= ${MIN_KIND}`, async () => {
      const v = await kindVersion();
      if (!v) return { status: 'fail', detail: 'could not read the kind version', fix: installKind };
      if (!atLeast(v, MIN_KIND)) {
        const detail =
          `kind ${formatVersion(v)} is too old: it writes kubeadm's v1beta3 config, which the pinned Kubernetes ` +
          `rejects, and its \`kind load\` fails on the pinned node images (needs ${MIN_KIND}+)`;
        return { status: 'fail', detail, fix: installKind };
      }
      return { status: 'pass', detail: `kind ${formatVersion(v)}` };
    }),
    helmCheck(),
    guard('kubectl', 'kubectl present', async () => {
      const v = await kubectlVersion();
      return v
        ? { status: 'pass', detail: `kubectl ${formatVersion(v)}` }
        : { status: 'fail', detail: 'could not read the kubectl version', fix: installKubectl };
    }),
    guard('cgroup', 'cgroup version fits the node image', async () => {
      const result = await info;
      if (!result.ok) return { status: 'warn', detail: 'unknown: Docker is not reachable' };
      const version = result.value.cgroupVersion || '2';
      try {
        // The same choice `up` makes: an unpinned version falls back to one cgroup v1 can run.
        const image = resolveNodeImage(inputs.config.cluster, version);
        if (image.note)
          return {
            status: 'warn',
            detail: image.note,
            fix: 'Move Docker to cgroup v2 (systemd.unified_cgroup_hierarchy=1) to run newer Kubernetes versions.',
          };
        return { status: 'pass', detail: `cgroup v${version}, Kubernetes ${image.version}` };
      } catch (error) {
        return {
          status: 'fail',
          detail: errorMessage(error),
          fix: `Set cluster.kubernetesVersion: ${NEWEST_FOR_CGROUP_V1} in koala.yaml, or move Docker to cgroup v2.`,
        };
      }
    }),
    guard('memory', 'memory for the nodes', async () => {
      const result = await info;
      if (!result.ok) return { status: 'warn', detail: 'unknown: Docker is not reachable' };
      const budget = memoryBudget(inputs.spec);
      const have = result.value.memTotalBytes;
      const gib = (n: number): string => `${(n / GiB).toFixed(1)} GiB`;
      const nodes = nodeNames(inputs.spec).length;
      const fix =
        'Give Docker more memory (Docker Desktop: Settings → Resources), ' +
        'or use fewer nodes: cluster.controlPlanes: 1 and cluster.workers: 1 in koala.yaml.';
      if (have < budget.nodes)
        return {
          status: 'fail',
          detail: `Docker has ${gib(have)}; ${nodes} nodes need about ${gib(budget.nodes)}`,
          fix,
        };
      if (have < budget.platform)
        return {
          status: 'warn',
          detail: `Docker has ${gib(have)}; the nodes plus the platform need about ${gib(budget.platform)}`,
          fix,
        };
      return { status: 'pass', detail: `Docker has ${gib(have)} (about ${gib(budget.platform)} needed)` };
    }),
    guard('ports', 'host ports free', async () => checkPorts(inputs)),
  ];
  if (inputs.platform === 'linux') {
    checks.push(
      guard('inotify', 'inotify limits for multi-node kind', async () => {
        const read = inputs.readProc ?? ((p: string) => readFile(p, 'utf8'));
        const low: string[] = [];
        for (const [key, min] of Object.entries(INOTIFY)) {
          const value = Number((await read(`/proc/sys/fs/inotify/${key}`)).trim());
          if (value < min) low.push(`fs.inotify.${key}=${value} (needs ${min})`);
        }
        if (low.length === 0)
          return { status: 'pass', detail: 'max_user_watches and max_user_instances are high enough' };
        const nodes = nodeNames(inputs.spec).length;
        const settings = [
          `fs.inotify.max_user_watches=${INOTIFY.max_user_watches}`,
          `fs.inotify.max_user_instances=${INOTIFY.max_user_instances}`,
        ];
        const fixCmd = `sudo sysctl ${settings.join(' ')}`;
        const persist = `printf '${settings.map((s) => `${s}\\n`).join('')}' | sudo tee /etc/sysctl.d/99-koala.conf`;
        return {
          status: nodes > 1 ? 'fail' : 'warn',
          detail: low.join(', '),
          fix: `${fixCmd}  (to keep it after a reboot: ${persist})`,
        };
      }),
    );
  }
  const outcomes = await Promise.all(checks);
  const docker = await info;
  return docker.ok ? { outcomes, docker: docker.value } : { outcomes };
}

/** A check that never throws: one that cannot run is a failure with the reason and a fix. */
export async function guard(
  id: string,
  title: string,
  fn: () => Promise<Omit<CheckOutcome, 'id' | 'title'>>,
): Promise<CheckOutcome> {
  try {
    return { id, title, ...(await fn()) };
  } catch (error) {
    const fix =
      error instanceof ToolMissingError && isPinned(error.tool)
        ? installFix(error.tool)
        : 'Run `koala doctor --verbose` to see the command that failed.';
    return { id, title, status: 'fail', detail: failureLine(error), fix };
  }
}

/** helm 3.19+ or 4: every install goes through it, on kind or on a cluster koala did not create. */
export function helmCheck(): Promise<CheckOutcome> {
  return guard('helm', `helm ${MIN_HELM3}+ or 4.x`, async () => {
    const v = await helmVersion();
    if (!v) return { status: 'fail', detail: 'could not read the helm version', fix: installHelm };
    if (v.major < 3 || (v.major === 3 && !atLeast(v, MIN_HELM3)))
      return {
        status: 'fail',
        detail: `helm ${formatVersion(v)} is too old (the Airflow chart needs ${MIN_HELM3}+)`,
        fix: installHelm,
      };
    return { status: 'pass', detail: `helm ${formatVersion(v)}` };
  });
}

function isPinned(tool: string): tool is PinnedTool {
  return (PINNED_TOOLS as readonly string[]).includes(tool);
}

/** The line of an error that says what went wrong: a tool's last stderr line, not the command. */
function failureLine(error: unknown): string {
  if (error instanceof ToolError && error.stderrTail.trim()) return error.stderrTail.trim().split('\n').at(-1)!.trim();
  return errorMessage(error).split('\n')[0]!;
}

/** The koala command that fetches the pinned tool, and the official way by hand. */
function installFix(tool: PinnedTool): string {
  const pin = TOOL_PINS[tool];
  return (
    `Run \`koala tools install ${tool}\` (the pinned ${pin.version}, checked by SHA-256, into ~/.cache/koala/bin), ` +
    `or install it by hand: ${pin.manual}`
  );
}
const installKind = installFix('kind');
const installHelm = installFix('helm');
const installKubectl = installFix('kubectl');

/** kind, helm and kubectl that are missing or too old for `up`, by the same rules as the checks above. */
export async function toolsNeeded(
  options: { kind?: boolean } = {},
): Promise<Array<{ tool: PinnedTool; reason: string }>> {
  const read = async (fn: () => Promise<SemVer | undefined>): Promise<SemVer | undefined> =>
    fn().catch(() => undefined);
  const wantKind = options.kind ?? true;
  const [kind, helm, kubectl] = await Promise.all([
    wantKind ? read(kindVersion) : undefined,
    read(helmVersion),
    read(kubectlVersion),
  ]);
  const needed: Array<{ tool: PinnedTool; reason: string }> = [];
  if (wantKind && (!kind || !atLeast(kind, MIN_KIND)))
    needed.push({ tool: 'kind', reason: kind ? `${formatVersion(kind)} is older than ${MIN_KIND}` : 'missing' });
  if (!helm || helm.major < 3 || (helm.major === 3 && !atLeast(helm, MIN_HELM3)))
    needed.push({ tool: 'helm', reason: helm ? `${formatVersion(helm)} is older than ${MIN_HELM3}` : 'missing' });
  if (!kubectl) needed.push({ tool: 'kubectl', reason: 'missing' });
  return needed;
}

async function checkPorts(inputs: PreflightInputs): Promise<Omit<CheckOutcome, 'id' | 'title'>> {
  const { config, spec } = inputs;
  const wanted: Array<{ port: number; what: string; field: string; owner: string }> = [];
  if (config.registry.enabled)
    wanted.push({
      port: config.registry.port,
      what: 'the registry',
      field: 'registry.port',
      owner: config.registry.name,
    });
  for (const m of spec.portMappings)
    wanted.push({
      port: m.hostPort,
      what: m.service,
      field: `ports.${m.service}`,
      owner: firstControlPlane(spec.name),
    });
  const isFree = inputs.isPortFree ?? portIsFree;
  const configured = inputs.configuredHostPorts ?? configuredHostPorts;
  const busy: string[] = [];
  const unnamed: typeof wanted = [];
  for (const w of wanted) {
    if (await isFree(w.port)) continue;
    // A port held by koala's own registry or cluster is fine: `up` is running again.
    const holders = await containersPublishing(w.port).catch((): string[] => []);
    if (holders.includes(w.owner)) continue;
    if (holders.length > 0) {
      busy.push(`${w.port} (${w.what}, ${w.field}) is used by container ${holders.join(', ')}`);
      continue;
    }
    // Docker lists only running containers as publishing a port, yet the proxy of a node whose
    // start was cut short by an interrupted create holds it still; the cluster step deletes that
    // node, and the port with it.
    if ((await configured(w.owner).catch((): number[] => [])).includes(w.port)) continue;
    unnamed.push(w);
  }
  // Held with no container named: Docker's proxy of a container just removed (an interrupted
  // create being cleaned up) lets go within moments; anything else still holds it after that.
  for (const w of await stillHeld(unnamed, isFree)) busy.push(`${w.port} (${w.what}, ${w.field}) is in use`);
  if (busy.length === 0)
    return { status: 'pass', detail: wanted.map((w) => w.port).join(', ') || 'no host ports needed' };
  return {
    status: 'fail',
    detail: busy.join('; '),
    fix: 'Stop what holds the port, or pick another one in koala.yaml (a ports.* value of 0 turns that mapping off).',
  };
}

/** The host ports a container was created to publish, running or not; none when it does not exist. */
async function configuredHostPorts(container: string): Promise<number[]> {
  const state = await inspectContainer(container);
  return Object.values(state?.ports ?? {})
    .flat()
    .map((binding) => Number(binding.split(':').at(-1)));
}

async function stillHeld<T extends { port: number }>(
  held: T[],
  isFree: (port: number) => Promise<boolean>,
): Promise<T[]> {
  let left = held;
  for (let i = 0; i < 4 && left.length > 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const free = await Promise.all(left.map((w) => isFree(w.port)));
    left = left.filter((_, j) => !free[j]);
  }
  return left;
}

export function portIsFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
