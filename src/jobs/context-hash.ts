import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * The identity of a build: a hash over every file Docker would see in the context (after
 * .dockerignore), their modes, the Dockerfile's name and the build arguments. Equal hashes mean
 * an equal image, so the hash is the tag and an unchanged app is neither rebuilt nor pushed.
 */
export interface ContextHash {
  /** sha256 hex of the whole context. */
  digest: string;
  /** The image tag: the first 16 hex digits. */
  tag: string;
  files: number;
  bytes: number;
}

export async function hashBuildContext(
  dir: string,
  options: { dockerfile?: string; buildArgs?: Record<string, string> } = {},
): Promise<ContextHash> {
  const ignore = await readDockerignore(dir);
  const files = (await walk(dir, '', ignore)).sort();
  const hash = createHash('sha256');
  let bytes = 0;
  for (const relative of files) {
    const full = path.join(dir, relative);
    const [content, info] = await Promise.all([readFile(full), stat(full)]);
    bytes += content.length;
    // Executable bits matter to the image; other mode bits and mtimes do not.
    hash.update(
      `${relative}\0${info.mode & 0o111 ? 'x' : '-'}\0${createHash('sha256').update(content).digest('hex')}\n`,
    );
  }
  hash.update(`dockerfile\0${options.dockerfile ?? 'Dockerfile'}\n`);
  for (const [key, value] of Object.entries(options.buildArgs ?? {}).sort(([a], [b]) => a.localeCompare(b)))
    hash.update(`arg\0${key}\0${value}\n`);
  const digest = hash.digest('hex');
  return { digest, tag: digest.slice(0, 16), files: files.length, bytes };
}

type Matcher = (relative: string) => boolean;

/**
 * .dockerignore, in the subset koala's templates and most apps use: one pattern per line,
 * `#` comments, `*`, `?` and `**` globs, matched against the path and each of its parents;
 * `!` re-includes. Docker applies the same rules, so the hash follows what Docker sends.
 */
export async function readDockerignore(dir: string): Promise<Matcher> {
  const file = path.join(dir, '.dockerignore');
  if (!existsSync(file)) return () => false;
  const rules = (await readFile(file, 'utf8'))
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => ({
      negate: l.startsWith('!'),
      re: globToRegExp(path.posix.normalize(l.replace(/^!/, '').replace(/^\/+/, '').replace(/\/+$/, ''))),
    }));
  return (relative) => {
    const parts = relative.split('/');
    const candidates = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) if (candidates.some((c) => rule.re.test(c))) ignored = !rule.negate;
    return ignored;
  };
}

function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

async function walk(root: string, prefix: string, ignored: Matcher): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, prefix), { withFileTypes: true })) {
    const relative = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (ignored(relative)) continue;
    if (entry.isDirectory()) out.push(...(await walk(root, relative, ignored)));
    else if (entry.isFile()) out.push(relative);
  }
  return out;
}
