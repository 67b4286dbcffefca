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

export default function setup(): (() => void) | undefined {
  if (process.env.KOALA_TESTBED_KUBECONFIG) return undefined;
  const binDir = execFileSync('bash', [path.join(REPO, 'scripts/testbed/env.sh')], { encoding: 'utf8' }).trim();
  const name = `koala-tb-${process.pid}`;
  const workdir = mkdtempSync(path.join(os.tmpdir(), 'koala-testbed-'));
  const cluster = (cmd: string): ReturnType<typeof spawnSync> =>
    spawnSync('bash', [path.join(REPO, 'scripts/testbed/cluster.sh'), cmd, name, workdir], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, KOALA_TESTBED_NODES: process.env.KOALA_TESTBED_NODES ?? '3' } });

  const started = cluster('start');
  if (started.status !== 0) {
    cluster('stop');
    throw new Error(`The test bed did not start (scripts/testbed/cluster.sh start exited ${started.status}). Build it with scripts/testbed/build.sh.`);
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
