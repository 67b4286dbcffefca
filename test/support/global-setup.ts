/**
 * Starts the test bed once per test run and stops it at the end (and on SIGINT/SIGTERM):
 * a real control plane from scripts/testbed/cluster.sh with fake kwok nodes. Reuses one that
 * is already running when KOALA_TESTBED_KUBECONFIG is set (e.g. by scripts/test.sh).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '../..');

/**
 * Docker's default network must take a container: a second daemon started with --bridge deletes
 * docker0 (scripts/docker/restore-default-bridge.sh), and then every test that starts a registry
 * fails alike. One clear failure here says why.
 */
function checkDefaultNetwork(): void {
  if (spawnSync('docker', ['info'], { stdio: 'ignore' }).status !== 0) return; // tests that need Docker say so
  const run = spawnSync('docker', ['run', '--rm', 'koala-test/base:1', 'true'], { encoding: 'utf8' });
  if (run.status !== 0 && !/No such image|Unable to find image/.test(run.stderr)) {
    throw new Error(
      `Docker cannot start a container on its default network: ${run.stderr.trim()}\n` +
        'Run scripts/docker/ensure-dockerd.sh (it restores a deleted docker0).',
    );
  }
}

export default function setup(): (() => void) | undefined {
  checkDefaultNetwork();
  if (process.env.KOALA_TESTBED_KUBECONFIG) return undefined;
  const binDir = execFileSync('bash', [path.join(REPO, 'scripts/testbed/env.sh')], { encoding: 'utf8' }).trim();
  const name = `koala-tb-${process.pid}`;
  const workdir = mkdtempSync(path.join(os.tmpdir(), 'koala-testbed-'));
  const cluster = (cmd: string): ReturnType<typeof spawnSync> =>
    spawnSync('bash', [path.join(REPO, 'scripts/testbed/cluster.sh'), cmd, name, workdir], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, KOALA_TESTBED_NODES: process.env.KOALA_TESTBED_NODES ?? '3' },
    });

  const started = cluster('start');
  if (started.status !== 0) {
    cluster('stop');
    throw new Error(
      `The test bed did not start (scripts/testbed/cluster.sh start exited ${started.status}). ` +
        'Build it with scripts/testbed/build.sh.',
    );
  }
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    cluster('stop');
    rmSync(workdir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stop();
      process.exit(130);
    });
  }
  process.env.KOALA_TESTBED_KUBECONFIG = path.join(workdir, 'kubeconfig');
  process.env.KOALA_TESTBED_CONTEXT = `kwok-${name}`;
  process.env.KOALA_TESTBED_BIN = binDir;
  return stop;
}
