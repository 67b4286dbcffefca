/**
 * Worlds for the real-kind tier: the built CLI with the real kind (v0.33, from its Go module),
 * the kind Docker daemon (its default runtime drops the capabilities this machine lacks) and
 * the test node image. koala's own components beyond the cluster and registry are off.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { freePort, hostPortsYaml, koala, makeWorld, type World } from '../support/cli.ts';

// Set by global-setup.ts only off CI; with CI=true a missing part fails the run, so no skip
// reason from the environment is taken there either.
export const skipReason = process.env.CI === 'true' ? undefined : process.env.KOALA_REALKIND_SKIP;

export interface RealWorld extends World {
  name: string;
  registry: string;
  registryPort: number;
}

export function env(): { dockerHost: string; kind: string; nodeImage: string; kubectl: string } {
  return {
    dockerHost: process.env.KOALA_REALKIND_DOCKER_HOST!,
    kind: process.env.KOALA_REALKIND_KIND!,
    nodeImage: process.env.KOALA_REALKIND_NODE_IMAGE!,
    kubectl: process.env.KOALA_REALKIND_KUBECTL!,
  };
}

export async function realWorld(shape: { controlPlanes: number; workers: number }): Promise<RealWorld> {
  const e = env();
  const world = makeWorld({
    fakes: [],
    env: {
      DOCKER_HOST: e.dockerHost,
      KOALA_KIND: e.kind,
      KOALA_NODE_IMAGE: e.nodeImage,
    },
  });
  const name = `rk${randomBytes(3).toString('hex')}`;
  const registry = `reg-${name}`;
  const registryPort = await freePort();
  world.writeConfig(
    [
      `cluster: { name: ${name}, controlPlanes: ${shape.controlPlanes}, workers: ${shape.workers} }`,
      `registry: { name: ${registry}, port: ${registryPort}, image: koala-test/registry:3 }`,
      ...(await hostPortsYaml()),
      'components:',
      '  spark-operator: { enabled: false }',
      '  object-store: { enabled: false }',
      '  airflow: { enabled: false }',
    ].join('\n'),
  );
  return Object.assign(world, { name, registry, registryPort });
}

export function docker(...args: string[]): string {
  return execFileSync('docker', args, {
    encoding: 'utf8',
    env: { ...process.env, DOCKER_HOST: env().dockerHost },
    stdio: ['ignore', 'pipe', 'pipe'],
  }).trim();
}

export function kubectl(world: World, args: string[], input?: string): string {
  return execFileSync(env().kubectl, ['--kubeconfig', world.env.KUBECONFIG!, ...args], {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(input ? { input } : {}),
  }).trim();
}

export function kind(args: string[]): string {
  return execFileSync(env().kind, args, {
    encoding: 'utf8',
    env: { ...process.env, DOCKER_HOST: env().dockerHost },
  }).trim();
}

/** kubectl that may fail: exit code and output, and how long it took. */
export function tryKubectl(world: World, args: string[]): { ok: boolean; out: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(env().kubectl, ['--kubeconfig', world.env.KUBECONFIG!, ...args], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim(), ms: Date.now() - t0 };
}

/** The "used" column of `free -m`, in MiB. */
export function memUsedMiB(): number {
  const line = execFileSync('free', ['-m'], { encoding: 'utf8' })
    .split('\n')
    .find((l) => l.startsWith('Mem:'))!;
  return Number(line.split(/\s+/)[2]);
}

/** Containers, volumes and network endpoints of a cluster and its registry left in the daemon. */
export function leftovers(world: RealWorld): string[] {
  const out: string[] = [];
  const containers = docker(
    'ps',
    '-a',
    '--filter',
    `label=io.x-k8s.kind.cluster=${world.name}`,
    '--format',
    '{{.Names}}',
  );
  if (containers) out.push(`containers: ${containers}`);
  const registry = docker('ps', '-a', '--filter', `name=^${world.registry}$`, '--format', '{{.Names}}');
  if (registry) out.push(`registry: ${registry}`);
  const volumes = docker('volume', 'ls', '-q')
    .split('\n')
    .filter((v) => v.includes(world.name) || v.includes(world.registry));
  if (volumes.length > 0) out.push(`volumes: ${volumes.join(' ')}`);
  const endpoints = spawnSync(
    'docker',
    ['network', 'inspect', 'kind', '-f', '{{range .Containers}}{{.Name}} {{end}}'],
    {
      encoding: 'utf8',
      env: { ...process.env, DOCKER_HOST: env().dockerHost },
    },
  );
  const mine = (endpoints.stdout ?? '')
    .split(/\s+/)
    .filter((n) => n.startsWith(`${world.name}-`) || n === world.registry);
  if (mine.length > 0) out.push(`kind network endpoints: ${mine.join(' ')}`);
  return out;
}

/** Down, whatever state the test left; for finally blocks. */
export async function down(world: RealWorld): Promise<void> {
  await koala(world, ['down', '--yes']);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
