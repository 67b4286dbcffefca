import { execFile, execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { nearest } from '../../src/cli/not-found.ts';

const root = path.resolve(import.meta.dirname, '../..');
const run = path.join(root, 'bin/run.js');

/** What bash offers for the words typed so far (the last one is being completed). */
function complete(script: string, words: string[], cwd: string): string[] {
  const line = [
    `source ${JSON.stringify(script)}`,
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length - 1}`,
    '_koala_complete',
    `printf '%s\\n' "\${COMPREPLY[@]}"`,
  ].join('; ');
  return execFileSync('bash', ['--norc', '--noprofile', '-c', line], { cwd, encoding: 'utf8' })
    .split('\n')
    .filter(Boolean);
}

describe('shell completion', { timeout: 60_000 }, () => {
  it('installs for bash and completes commands, topics, flags, app names and personas', async () => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'koala-home-'));
    const out = execFileSync(process.execPath, [run, 'autocomplete', 'bash', '--install'], {
      encoding: 'utf8',
      env: { ...process.env, HOME: home },
    });
    const script = path.join(home, '.local/share/bash-completion/completions/koala');
    expect(out).toContain(`Wrote ${script}.`);
    const project = await mkdtemp(path.join(os.tmpdir(), 'koala-project-'));
    await mkdir(path.join(project, 'spark-applications/pagerank'), { recursive: true });
    expect(complete(script, ['koala', 'ap'], project)).toEqual(['apps']);
    expect(complete(script, ['koala', 'apps', 'l'], project)).toEqual(['list']);
    expect(complete(script, ['koala', 'up', '--dry'], project)).toEqual(['--dry-run']);
    expect(complete(script, ['koala', 'run', 'pa'], project)).toEqual(['pagerank']);
    expect(complete(script, ['koala', 'users', 'kubeconfig', 'a'], project)).toEqual(['admin']);
    expect(complete(script, ['koala', 'tools', ''], project)).toEqual(['install']);
  });

  it('prints zsh and fish scripts', async () => {
    for (const shell of ['zsh', 'fish']) {
      const script = execFileSync(process.execPath, [run, 'autocomplete', shell], { encoding: 'utf8' });
      expect(script).toContain(
        shell === 'zsh'
          ? 'complete -o default -F _koala_complete koala'
          : "complete -c koala -n '__fish_use_subcommand' -a apps",
      );
    }
    expect(await readFile(path.join(root, 'oclif.manifest.json'), 'utf8')).toContain('"autocomplete"');
  });
});

describe('a mistyped command', () => {
  it('suggests the nearest command or topic', () => {
    const ids = ['up', 'down', 'status', 'apps:list', 'apps', 'doctor', 'init'];
    expect(nearest('upp', ids)).toBe('up');
    expect(nearest('staus', ids)).toBe('status');
    expect(nearest('aps', ids)).toBe('apps');
    expect(nearest('kubernetes', ids)).toBeUndefined();
  });

  it('says "did you mean" and exits 2 from the CLI', async () => {
    const result = await promisify(execFile)(process.execPath, [run, 'upp'], { encoding: 'utf8' }).catch(
      (error: { code: number; stderr: string; stdout: string }) => error,
    );
    expect('code' in result ? result.code : 0).toBe(2);
    expect(result.stderr).toBe(
      'Error: koala upp is not a koala command. Did you mean up?\n' +
        '→ Run `koala --help` for the list of commands (`koala up --help` for that one); nothing was changed.\n',
    );
  });
});
