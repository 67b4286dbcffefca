import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where assets/ lives), found from this file whether it runs from src/ or dist/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'assets'))) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('koala: cannot find its assets directory');
    dir = parent;
  }
}

export function assetPath(...parts: string[]): string {
  return path.join(packageRoot(), 'assets', ...parts);
}

/** koala's own state: per-cluster records, credentials, caches. KOALA_HOME moves it (tests do). */
export function koalaHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.KOALA_HOME || path.join(os.homedir(), '.koala');
}

export function clusterHome(cluster: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(koalaHome(env), 'clusters', cluster);
}

export function cacheHome(env: NodeJS.ProcessEnv = process.env): string {
  return env.KOALA_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'koala');
}
