import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const run = path.join(root, 'bin/run.js');

/** Node binaries older than koala's minimum on this machine (Debian's /usr/bin/node is often one). */
function oldNodes(): string[] {
  const candidates = [process.env.KOALA_OLD_NODE, '/usr/bin/node', '/usr/local/bin/node'].filter((p): p is string =>
    Boolean(p && existsSync(p)),
  );
  return [...new Set(candidates)].filter((bin) => {
    const [major, minor] = execFileSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' })
      .trim()
      .split('.')
      .map(Number);
    return major! < 22 || (major === 22 && minor! < 13);
  });
}

function expectRefused(result: ReturnType<typeof spawnSync>, version: string): void {
  expect(result.status).toBe(1);
  expect(String(result.stdout)).toBe('');
  const stderr = String(result.stderr);
  expect(stderr).toContain(`Error: koala needs Node.js 22.13 or newer; this is Node.js ${version}`);
  expect(stderr).toMatch(/→ Run koala through bin\/koala .*or install Node\.js 22\.13 or newer/);
  expect(stderr).not.toMatch(/TEXT_ENCODINGS|reading 'bind'|at file:/);
}

describe('bin/run.js on a Node.js that is too old', () => {
  it.each(['20.20.0', '22.12.0'])('says koala needs 22.13+ and how to get it, on Node %s (simulated)', (version) => {
    const fake = `data:text/javascript,Object.defineProperty(process.versions,"node",{value:"${version}"})`;
    for (const args of [['up'], ['--help'], ['up', '--help']])
      expectRefused(spawnSync(process.execPath, ['--import', fake, run, ...args]), version);
  });

  const found = oldNodes();
  // Needs an old Node, which these machines ship; reported as skipped elsewhere, a failure in CI.
  it.skipIf(!process.env.CI && found.length === 0)('says so on every older Node this machine has, for real', () => {
    expect(found.length, 'no Node.js older than 22.13 found (set KOALA_OLD_NODE)').toBeGreaterThan(0);
    for (const bin of found) {
      const version = execFileSync(bin, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
      for (const args of [['up'], ['--help'], ['up', '--workers', '1']])
        expectRefused(spawnSync(bin, [run, ...args]), version);
    }
  });

  it('checks the same minimum as package.json engines', () => {
    const engines = (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { engines: { node: string } })
      .engines.node;
    const min = /const MIN_NODE = \[(\d+), (\d+)\]/.exec(readFileSync(run, 'utf8'));
    expect(min, 'MIN_NODE in bin/run.js').not.toBeNull();
    expect(engines).toBe(`>=${min![1]}.${min![2]}`);
  });
});
