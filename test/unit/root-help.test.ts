import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const run = path.resolve(import.meta.dirname, '../../bin/run.js');
const help = (args: string[], env: Record<string, string>): string => execFileSync(process.execPath, [run, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('the fast root help', () => {
  it.each(['40', '80', '132'])('is the same page as oclif renders, %s columns wide', (columns) => {
    const oclif = help(['--help'], { KOALA_NO_FAST_PATHS: '1', OCLIF_COLUMNS: columns });
    expect(oclif).toMatch(/COMMANDS/);
    expect(help(['--help'], { OCLIF_COLUMNS: columns })).toBe(oclif);
    expect(help([], { OCLIF_COLUMNS: columns })).toBe(oclif);
  });

  it('--version is the same as oclif prints', () => {
    expect(help(['--version'], {})).toBe(help(['--version'], { KOALA_NO_FAST_PATHS: '1' }));
  });
});
