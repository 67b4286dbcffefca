/**
 * For benchmarks: a test-bed control plane of their own (scripts/testbed/cluster.sh), the Spark
 * operator's CRDs, a job namespace with the driver ServiceAccount, and a kubeconfig whose
 * context is named the way koala expects (kind-<cluster>). Stopped by stop().
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';

export const REPO = path.resolve(import.meta.dirname, '../..');

export interface BenchBed {
  dir: string;
  kubeconfig: string;
  cluster: string;
  namespace: string;
  kubectl(args: string[], input?: string): string;
  stop(): void;
}

export function startBed(namespace = 'spark-jobs'): BenchBed {
  execFileSync('bash', [path.join(REPO, 'scripts/testbed/build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-bench-'));
  const name = `koala-bench-${process.pid}`;
  const cluster = 'bench';
  const run = (cmd: string) =>
    spawnSync('bash', [path.join(REPO, 'scripts/testbed/cluster.sh'), cmd, name, path.join(dir, 'tb')], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: { ...process.env, KOALA_TESTBED_NODES: '1' },
    });
  if (run('start').status !== 0) throw new Error('the test bed did not start');
  const source = path.join(dir, 'tb/kubeconfig');
  const config = parse(readFileSync(source, 'utf8')) as {
    contexts: Array<{ name: string }>;
    'current-context': string;
  };
  config.contexts[0]!.name = `kind-${cluster}`;
  config['current-context'] = `kind-${cluster}`;
  const kubeconfig = path.join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, stringify(config), { mode: 0o600 });
  const kubectl = (args: string[], input?: string): string =>
    execFileSync('kubectl', ['--kubeconfig', kubeconfig, ...args], {
      encoding: 'utf8',
      ...(input ? { input } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
  execFileSync('bash', [path.join(REPO, 'scripts/testbed/build-spark-operator.sh')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const crds = execFileSync('bash', [path.join(REPO, 'scripts/testbed/build-spark-operator.sh'), '--print-crds'], {
    encoding: 'utf8',
  }).trim();
  kubectl(['apply', '--server-side', '-f', crds]);
  kubectl(['create', 'namespace', namespace]);
  for (let i = 0; i < 100; i++) {
    if (
      spawnSync('kubectl', ['--kubeconfig', kubeconfig, '-n', namespace, 'get', 'sa', 'default'], { stdio: 'ignore' })
        .status === 0
    )
      break;
    spawnSync('sleep', ['0.1']);
  }
  kubectl(['-n', namespace, 'create', 'serviceaccount', 'spark-operator-spark']);
  // What the object-store component puts in every job namespace (values are placeholders).
  kubectl([
    '-n',
    namespace,
    'create',
    'secret',
    'generic',
    'object-store-s3',
    '--from-literal=AWS_ACCESS_KEY_ID=bench',
    '--from-literal=AWS_SECRET_ACCESS_KEY=bench',
  ]);
  for (let i = 0; i < 100; i++) {
    if (
      spawnSync('kubectl', ['--kubeconfig', kubeconfig, 'get', 'sparkapplications', '-A'], { stdio: 'ignore' })
        .status === 0
    )
      break;
    spawnSync('sleep', ['0.1']);
  }
  return {
    dir,
    kubeconfig,
    cluster,
    namespace,
    kubectl,
    stop() {
      run('stop');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A TCP proxy that counts the bytes clients send through it (what a push uploads). */
export async function countingProxy(
  targetPort: number,
): Promise<{ port: number; bytesUp: () => number; reset: () => void; close: () => void }> {
  let up = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    client.on('data', (d: Buffer) => {
      up += d.length;
      upstream.write(d);
    });
    upstream.pipe(client);
    client.on('end', () => upstream.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    bytesUp: () => up,
    reset: () => (up = 0),
    close: () => server.close(),
  };
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

export const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const percentile = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))]!;
export const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(2)} MB`;
