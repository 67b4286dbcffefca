// Start-up benchmark: `koala --version`, `koala --help` and every `koala <command> --help` against
// bare `node -e 0`, measured in the same run, interleaved so machine load affects all alike.
// Prints medians and ratios. Target: each at most 2x the bare node start-up.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(process.env.BENCH_RUNS ?? 21);
const cases = {
  'node -e 0': [process.execPath, '-e', '0'],
  'koala --version': [process.execPath, path.join(root, 'bin/run.js'), '--version'],
  'koala --help': [process.execPath, path.join(root, 'bin/run.js'), '--help'],
};
const manifest = JSON.parse(readFileSync(path.join(root, 'oclif.manifest.json'), 'utf8'));
for (const id of Object.keys(manifest.commands)) {
  cases[`koala ${id.replaceAll(':', ' ')} --help`] = [
    process.execPath,
    path.join(root, 'bin/run.js'),
    ...id.split(':'),
    '--help',
  ];
}
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
let worst = 0;
for (const [name, xs] of Object.entries(samples)) {
  const m = median(xs);
  if (name !== 'node -e 0') worst = Math.max(worst, m / base);
  console.log(`  ${name.padEnd(32)} ${m.toFixed(1).padStart(7)} ms   ${(m / base).toFixed(2)}x node -e 0`);
}
console.log(`  slowest: ${worst.toFixed(2)}x node -e 0 (target: at most 2.00x)`);
