// Test bed start-up benchmark: how long until a test can use the control plane
// (etcd, kube-apiserver, controller-manager, scheduler, kwok; stages applied; 3 nodes Ready;
// the default ServiceAccount made), against the bare control plane coming up (kwokctl's own
// wait), measured in the same runs. Also the stop time. Needs `scripts/testbed/build.sh` first.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 5);
const cluster = (cmd, name, dir) =>
  spawnSync('bash', [path.join(root, 'scripts/testbed/cluster.sh'), cmd, name, dir], {
    encoding: 'utf8',
    env: { ...process.env, KOALA_TESTBED_NODES: '3' },
  });
const rows = [];
for (let i = 0; i < runs; i++) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-bench-tb-'));
  const name = `bench-${process.pid}-${i}`;
  const t0 = performance.now();
  const start = cluster('start', name, dir);
  const ready = performance.now() - t0;
  if (start.status !== 0) throw new Error(`start failed:\n${start.stderr}`);
  const controlPlane = Number(/control plane up in ([\d.]+)s/.exec(start.stderr)?.[1] ?? NaN) * 1000;
  const t1 = performance.now();
  cluster('stop', name, dir);
  rows.push({ ready, controlPlane, stop: performance.now() - t1 });
  rmSync(dir, { recursive: true, force: true });
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const m = {
  ready: median(rows.map((r) => r.ready)),
  controlPlane: median(rows.map((r) => r.controlPlane)),
  stop: median(rows.map((r) => r.stop)),
};
console.log(`test bed start-up, median of ${runs} runs:`);
console.log(`  control plane up (baseline)     ${(m.controlPlane / 1000).toFixed(2)} s   1.00x`);
console.log(
  `  ready for tests (3 nodes Ready)  ${(m.ready / 1000).toFixed(2)} s   ${(m.ready / m.controlPlane).toFixed(2)}x`,
);
console.log(`  stop                             ${(m.stop / 1000).toFixed(2)} s`);
console.log(`  runs: ${rows.map((r) => `${(r.ready / 1000).toFixed(1)}s`).join(', ')}`);
