import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const run = path.resolve(import.meta.dirname, '../../bin/run.js');
const help = (args: string[], env: Record<string, string>): string =>
  execFileSync(process.execPath, [run, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });

describe('the fast root help', () => {
  it.each(['40', '80', '132'])('is the same page as oclif renders, %s columns wide', (columns) => {
    const oclif = help(['--help'], { KOALA_NO_FAST_PATHS: '1', OCLIF_COLUMNS: columns });
    expect(oclif).toMatch(/COMMANDS/);
    expect(help(['--help'], { OCLIF_COLUMNS: columns })).toBe(oclif);
    expect(help([], { OCLIF_COLUMNS: columns })).toBe(oclif);
  });

  it('is the same page, bold headers included, when oclif colours (FORCE_COLOR=1, and in a terminal)', () => {
    const oclif = help(['--help'], { KOALA_NO_FAST_PATHS: '1', OCLIF_COLUMNS: '90', FORCE_COLOR: '1' });
    expect(oclif).toContain('\u001b[1mCOMMANDS');
    expect(help(['--help'], { OCLIF_COLUMNS: '90', FORCE_COLOR: '1' })).toBe(oclif);
    // util-linux's script(1) gives the CLI a pseudo-terminal, as a user's shell does.
    const tty = (oclifOwn: boolean): string =>
      execFileSync(
        '/usr/bin/script',
        [
          '-qec',
          `stty cols 90; ${oclifOwn ? 'KOALA_NO_FAST_PATHS=1 ' : ''}'${process.execPath}' '${run}' --help`,
          '/dev/null',
        ],
        {
          encoding: 'utf8',
          env: {
            ...process.env,
            TERM: 'xterm-256color',
            KOALA_NO_FAST_PATHS: '',
            OCLIF_COLUMNS: '',
            FORCE_COLOR: undefined,
            CI: undefined,
            NO_COLOR: undefined,
          } as NodeJS.ProcessEnv,
        },
      );
    const inTerminal = tty(true);
    expect(inTerminal).toContain('\u001b[1mCOMMANDS');
    expect(tty(false)).toBe(inTerminal);
  });

  it('--version is the same as oclif prints', () => {
    expect(help(['--version'], {})).toBe(help(['--version'], { KOALA_NO_FAST_PATHS: '1' }));
  });
});
