import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { defaultConfig } from '../../src/config/schema.ts';
import { initProject } from '../../src/project/init.ts';

const tmp = (): Promise<string> => mkdtemp(path.join(os.tmpdir(), 'koala-init-'));
const FILES = [
  'koala.yaml',
  'spark-applications/.gitkeep',
  'dags/.gitkeep',
  '.devcontainer/devcontainer.json',
  '.devcontainer/Dockerfile',
  '.gitignore',
];

describe('koala init', () => {
  it('scaffolds an empty folder and lists every file it wrote', async () => {
    const dir = await tmp();
    const result = await initProject({ dir, koalaVersion: '0.1.0' });
    expect(result.files).toEqual(FILES.map((p) => ({ path: p, action: 'created' })));
    expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toMatch(/^\.env\.private$/m);
    const devcontainer = JSON.parse(await readFile(path.join(dir, '.devcontainer/devcontainer.json'), 'utf8'));
    expect(Object.keys(devcontainer.features)).toEqual(['ghcr.io/devcontainers/features/docker-outside-of-docker:1']);
    // No host network: koala joins the container to kind's network; the editor forwards the ports.
    expect(devcontainer.runArgs).toBeUndefined();
    expect(devcontainer.forwardPorts).toEqual([8080, 8000, 9000, 9001]);
    const dockerfile = await readFile(path.join(dir, '.devcontainer/Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:22-bookworm$/m);
    expect(dockerfile).toContain('koala tools install --dir /usr/local/bin');
    expect(dockerfile).not.toMatch(/\{\{/);
  });

  it('writes a koala.yaml whose every setting is commented out: it loads as the defaults', async () => {
    const dir = await tmp();
    await initProject({ dir, koalaVersion: '0.1.0' });
    const text = await readFile(path.join(dir, 'koala.yaml'), 'utf8');
    expect(text.split('\n').filter((l) => l.trim() && !l.startsWith('#'))).toEqual([]);
    // Uncommented, it is valid and equal to the defaults (except the example mirrors).
    const uncommented = text
      .split('\n')
      .map((l) => l.replace(/^# ?/, ''))
      .filter((l) => !/mirror:|^(charts|images|tools):/.test(l))
      .join('\n');
    await writeFile(path.join(dir, 'koala.yaml'), uncommented.replace(/^(koala's settings|Environment).*$/gm, ''));
    const loaded = await loadConfig({ cwd: dir, processEnv: {} });
    const defaults = defaultConfig(dir);
    // Writing the version down pins it; airflow's values: {} is the default spelled out.
    expect({ ...loaded.config, configFile: undefined }).toEqual({
      ...defaults,
      projectDir: loaded.config.projectDir,
      cluster: { ...defaults.cluster, kubernetesVersionPinned: true },
      components: { ...defaults.components, airflow: { enabled: true, values: {} } },
    });
  });

  it('changes nothing the second time', async () => {
    const dir = await tmp();
    await initProject({ dir, koalaVersion: '0.1.0' });
    const again = await initProject({ dir, koalaVersion: '0.1.0' });
    expect(again.files.map((f) => f.action)).toEqual(FILES.map(() => 'unchanged'));
  });

  it('never overwrites a file without force', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'koala.yaml'), 'cluster:\n  workers: 1\n');
    await writeFile(path.join(dir, '.gitignore'), 'node_modules/\n');
    const result = await initProject({ dir, koalaVersion: '0.1.0' });
    expect(result.files.find((f) => f.path === 'koala.yaml')?.action).toBe('kept');
    expect(result.files.find((f) => f.path === '.gitignore')?.action).toBe('kept');
    expect(await readFile(path.join(dir, 'koala.yaml'), 'utf8')).toBe('cluster:\n  workers: 1\n');
    expect(await readFile(path.join(dir, '.gitignore'), 'utf8')).toBe('node_modules/\n');

    const forced = await initProject({ dir, koalaVersion: '0.1.0', force: true });
    expect(forced.files.find((f) => f.path === 'koala.yaml')?.action).toBe('overwritten');
    expect(forced.files.find((f) => f.path === '.gitignore')?.action).toBe('updated');
    const gitignore = await readFile(path.join(dir, '.gitignore'), 'utf8');
    expect(gitignore).toMatch(/^node_modules\/\n/);
    expect(gitignore).toMatch(/^\.env\.private$/m);
  });

  it('keeps a .gitignore that already covers .env.private', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, '.gitignore'), '/.env.private\n');
    const result = await initProject({ dir, koalaVersion: '0.1.0' });
    expect(result.files.find((f) => f.path === '.gitignore')?.action).toBe('unchanged');
  });

  it('uses docker-in-docker when asked', async () => {
    const dir = await tmp();
    await initProject({ dir, koalaVersion: '0.1.0', docker: 'in-docker' });
    const devcontainer = JSON.parse(await readFile(path.join(dir, '.devcontainer/devcontainer.json'), 'utf8'));
    expect(Object.keys(devcontainer.features)).toEqual(['ghcr.io/devcontainers/features/docker-in-docker:2']);
    expect(devcontainer.runArgs).toBeUndefined();
  });
});
