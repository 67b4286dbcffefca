/**
 * `koala init`: a koala project in a folder. Writes only what is missing; an existing file is
 * kept unless `force` (then a .gitignore gets the missing lines appended, never rewritten), so
 * a second run changes nothing.
 */
import { existsSync } from 'node:fs';
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { NODE_IMAGES } from '../cluster/node-images.ts';
import { hostPorts } from '../components/host-ports.ts';
import { assetPath } from '../util/paths.ts';

export const DOCKER_MODES = ['outside-of-docker', 'in-docker'] as const;
export type DockerMode = (typeof DOCKER_MODES)[number];

export interface InitRequest {
  dir: string;
  force?: boolean;
  /** How the devcontainer reaches Docker: the host's daemon through its socket, or its own. */
  docker?: DockerMode;
  koalaVersion: string;
}

export type FileAction = 'created' | 'unchanged' | 'kept' | 'overwritten' | 'updated';

export interface InitResult {
  dir: string;
  files: Array<{ path: string; action: FileAction }>;
}

const FEATURES: Record<DockerMode, string> = {
  'outside-of-docker': 'ghcr.io/devcontainers/features/docker-outside-of-docker:1',
  'in-docker': 'ghcr.io/devcontainers/features/docker-in-docker:2',
};

export function devcontainerJson(docker: DockerMode): string {
  const config = {
    name: 'koala',
    build: { dockerfile: 'Dockerfile' },
    features: { [FEATURES[docker]]: {} },
    // With the host's daemon, koala joins this container to kind's network and uses the nodes'
    // own address for the API server; `koala port-forward` listens in here and the editor
    // forwards these ports (Airflow, the object store's API and console) to the host.
    forwardPorts: hostPorts().map((p) => p.default),
    remoteUser: 'node',
    postCreateCommand: 'koala doctor',
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

async function template(name: string, values: Record<string, string>): Promise<string> {
  const text = await readFile(assetPath('templates', 'init', name), 'utf8');
  return text.replaceAll(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole);
}

export async function initProject(request: InitRequest): Promise<InitResult> {
  const docker = request.docker ?? 'outside-of-docker';
  const values = { kubernetesVersion: NODE_IMAGES[0]!.version, koalaVersion: request.koalaVersion, nodeMajor: '22' };
  const files: InitResult['files'] = [];
  const dirs = ['spark-applications', 'dags', '.devcontainer'];
  for (const d of dirs) await mkdir(path.join(request.dir, d), { recursive: true });

  const write = async (relative: string, content: string): Promise<void> => {
    const target = path.join(request.dir, relative);
    if (!existsSync(target)) {
      await writeFile(target, content);
      files.push({ path: relative, action: 'created' });
    } else if ((await readFile(target, 'utf8')) === content) files.push({ path: relative, action: 'unchanged' });
    else if (request.force) {
      await writeFile(target, content);
      files.push({ path: relative, action: 'overwritten' });
    } else files.push({ path: relative, action: 'kept' });
  };

  await write('koala.yaml', await template('koala.yaml', values));
  // Git keeps no empty folders; these keep spark-applications/ and dags/ in the repository.
  await write('spark-applications/.gitkeep', '');
  await write('dags/.gitkeep', '');
  await write('.devcontainer/devcontainer.json', devcontainerJson(docker));
  await write('.devcontainer/Dockerfile', await template('Dockerfile', values));
  files.push(await ensureGitignore(request.dir, await template('gitignore', values), request.force ?? false));
  return { dir: request.dir, files };
}

/** .gitignore must cover .env.private: created when absent, appended to only with force. */
async function ensureGitignore(dir: string, content: string, force: boolean): Promise<InitResult['files'][number]> {
  const target = path.join(dir, '.gitignore');
  if (!existsSync(target)) {
    await writeFile(target, content);
    return { path: '.gitignore', action: 'created' };
  }
  const existing = await readFile(target, 'utf8');
  const lines = new Set(existing.split(/\r?\n/).map((l) => l.trim()));
  const missing = content
    .split('\n')
    .filter((l) => l.trim() && !l.startsWith('#') && !lines.has(l.trim()) && !lines.has(`/${l.trim()}`));
  if (missing.length === 0) return { path: '.gitignore', action: 'unchanged' };
  if (!force) return { path: '.gitignore', action: 'kept' };
  await appendFile(target, `${existing.endsWith('\n') || existing === '' ? '' : '\n'}${content}`);
  return { path: '.gitignore', action: 'updated' };
}
