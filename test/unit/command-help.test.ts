import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { renderCommandHelp, type ManifestCommand } from '../../src/cli/command-help.ts';

const root = path.resolve(import.meta.dirname, '../..');
const run = path.join(root, 'bin/run.js');
const manifest = JSON.parse(readFileSync(path.join(root, 'oclif.manifest.json'), 'utf8')) as {
  commands: Record<string, ManifestCommand>;
};
const ids = Object.keys(manifest.commands);

/** What the built CLI prints for `koala <id> --help`; KOALA_NO_FAST_PATHS=1 makes it oclif's own page. */
async function help(id: string, env: Record<string, string | undefined>): Promise<string> {
  const merged: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete merged[k];
  const { stdout } = await promisify(execFile)(process.execPath, [run, ...id.split(':'), '--help'], {
    encoding: 'utf8',
    env: merged,
  });
  return stdout;
}

/** Each id through `check`, a few at a time (two cores, shared). */
async function eachId(check: (id: string) => Promise<void>): Promise<void> {
  const queue = [...ids];
  await Promise.all(
    [1, 2, 3].map(async () => {
      for (let id = queue.shift(); id; id = queue.shift()) await check(id);
    }),
  );
}

describe('the fast command help', { timeout: 180_000 }, () => {
  it('covers every command', () => {
    expect(ids.length).toBeGreaterThan(10);
    for (const id of ids)
      expect(renderCommandHelp('koala', manifest.commands[id]!, { width: 80, color: false }), id).toBeDefined();
  });

  // Without and with colour (oclif bolds headers and underlines flag values when it colours).
  it.each([
    ['40', undefined],
    ['80', undefined],
    ['132', undefined],
    ['57', '1'],
    ['100', '1'],
  ])('is the page oclif renders for every command, %s columns, FORCE_COLOR=%s', async (columns, color) => {
    const env = { OCLIF_COLUMNS: columns, FORCE_COLOR: color, CI: undefined };
    await eachId(async (id) => {
      const oclif = await help(id, { ...env, KOALA_NO_FAST_PATHS: '1' });
      expect(oclif).toMatch(/USAGE/);
      expect(
        renderCommandHelp('koala', manifest.commands[id]!, { width: Number(columns), color: color === '1' }),
        id,
      ).toBe(oclif);
      expect(await help(id, { ...env, KOALA_NO_FAST_PATHS: undefined }), id).toBe(oclif);
    });
  });

  it('is the page oclif renders in a terminal (colour, its width)', () => {
    // util-linux's script(1) gives the CLI a pseudo-terminal, as a user's shell does.
    expect(existsSync('/usr/bin/script'), 'script(1) from util-linux').toBe(true);
    const tty = (id: string, oclif: boolean): string =>
      execFileSync(
        '/usr/bin/script',
        [
          '-qec',
          `stty cols 93; ${oclif ? 'KOALA_NO_FAST_PATHS=1 ' : ''}` +
            `'${process.execPath}' '${run}' ${id.replaceAll(':', ' ')} --help`,
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
    for (const id of ['up', 'users:kubeconfig', 'logs']) {
      const oclif = tty(id, true);
      expect(oclif).toContain('\u001b[1mUSAGE');
      expect(tty(id, false), id).toBe(oclif);
    }
  });

  it('leaves a topic, an unknown command and flags before --help to oclif', async () => {
    const same = async (argv: string[]): Promise<void> => {
      const opts = (fast: boolean) => ({
        encoding: 'utf8' as const,
        env: { ...process.env, OCLIF_COLUMNS: '80', ...(fast ? {} : { KOALA_NO_FAST_PATHS: '1' }) },
      });
      const [a, b] = await Promise.all([
        promisify(execFile)(process.execPath, [run, ...argv], opts(true)),
        promisify(execFile)(process.execPath, [run, ...argv], opts(false)),
      ]);
      expect(a.stdout, argv.join(' ')).toBe(b.stdout);
    };
    await same(['apps', '--help']);
    await same(['up', '--workers', '1', '--help']);
  });
});
