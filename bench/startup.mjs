// Start-up benchmark: `koala --version` and `koala --help` against bare `node -e 0`, measured
// in the same run, interleaved so machine load affects all alike. Prints medians and ratios.
// Target (issue 2): each at most 2x the bare node start-up.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 21);
const cases = {
  'node -e 0': [process.execPath, '-e', '0'],
  'koala --version': [process.execPath, path.join(root, 'bin/run.js'), '--version'],
  'koala --help': [process.execPath, path.join(root, 'bin/run.js'), '--help'],
  'koala up --help': [process.execPath, path.join(root, 'bin/run.js'), 'up', '--help'],
};
const samples = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
// Warm-up: fills Node's compile cache and the OS page cache, as a user's second run would.
for (const [cmd, ...args] of Object.values(cases)) spawnSync(cmd, args, { stdio: 'ignore' });
for (let i = 0; i < runs; i++) {
  for (const [name, [cmd, ...args]] of Object.entries(cases)) {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { stdio: 'ignore', env: { ...process.env, COLUMNS: '100' } });
    if (r.status !== 0) throw new Error(`${name} exited ${r.status}`);
    samples[name].push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const base = median(samples['node -e 0']);
console.log(`start-up, median of ${runs} runs (node ${process.version}):`);
for (const [name, xs] of Object.entries(samples)) {
  const m = median(xs);
  console.log(`  ${name.padEnd(18)} ${m.toFixed(1).padStart(7)} ms   ${(m / base).toFixed(2)}x node -e 0`);
}
