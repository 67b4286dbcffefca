/**
 * `koala tools install`: the pinned kind, helm and kubectl, fetched from their official release
 * URLs (or a mirror), checked against the SHA-256 kept in src/tools/pins.ts (or koala.yaml's
 * tools.sha256 for a mirror's own builds) and placed in <cache>/bin, where toolPath() finds them.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { EXIT, KoalaError } from '../util/errors.ts';
import { toolsBinDir } from './exec.ts';
import { currentPlatform, mirrorUrl, TOOL_PINS, type PinnedTool, type ToolPlatform } from './pins.ts';

export interface ToolSource {
  mirror?: string | undefined;
  /** Sums for the mirror's files (koala.yaml tools.sha256), used instead of the pins' sums. */
  sha256?: Partial<Record<PinnedTool, string>>;
}

export interface InstallOptions extends ToolSource {
  /** Where the binaries go; <cache>/bin by default. */
  dir?: string;
  platform?: ToolPlatform | undefined;
  signal?: AbortSignal;
  /** Progress: bytes so far and the total when the server says it. */
  onProgress?: (tool: PinnedTool, received: number, total: number | undefined) => void;
}

export interface Installed {
  tool: PinnedTool;
  /** false: the same verified file was already there. */
  fetched: boolean;
  version: string;
  path: string;
  url: string;
  sha256: string;
}

/** Where a tool comes from and the sum it must have, or why koala will not fetch it. */
export function resolveSource(
  tool: PinnedTool,
  source: ToolSource,
  platform: ToolPlatform,
): { url: string; sha256: string } {
  const pin = TOOL_PINS[tool];
  const url = source.mirror ? mirrorUrl(source.mirror, tool, platform) : pin.officialUrl(platform);
  const sha256 = (source.mirror ? source.sha256?.[tool] : undefined) ?? pin.sha256[platform];
  if (!sha256) {
    throw new KoalaError(
      `${tool} ${pin.version} for ${platform} has no verified SHA-256 in koala's pins, ` +
        `so koala will not install it from ${url}`,
      {
        hint:
          `Install ${tool} by hand (${pin.manual}), ` +
          `or serve it from a mirror and set tools.mirror and tools.sha256.${tool} in koala.yaml.`,
      },
    );
  }
  return { url, sha256 };
}

/** Fetch, verify and place each tool. A file whose sum is wrong is deleted and stops the install. */
export async function installTools(tools: readonly PinnedTool[], options: InstallOptions = {}): Promise<Installed[]> {
  const platform = options.platform ?? currentPlatform();
  if (!platform) {
    throw new KoalaError(
      'kind, helm and kubectl are published for linux and darwin on amd64 and arm64, ' +
        `not ${process.platform}-${process.arch}`,
      { hint: 'Install them by hand.' },
    );
  }
  // Resolve every source first: an unverifiable pin stops before anything is downloaded.
  const sources = tools.map((tool) => ({ tool, ...resolveSource(tool, options, platform) }));
  const dir = options.dir ?? toolsBinDir();
  await mkdir(dir, { recursive: true });
  await removeStaleParts(dir);
  const installed: Installed[] = [];
  for (const { tool, url, sha256 } of sources) {
    const target = path.join(dir, tool);
    // The sum of the release file it came from, so a second install fetches nothing.
    const stamp = `${target}.sha256`;
    if (existsSync(target) && existsSync(stamp) && (await readFile(stamp, 'utf8')).trim() === sha256) {
      installed.push({ tool, fetched: false, version: TOOL_PINS[tool].version, path: target, url, sha256 });
      continue;
    }
    const part = `${target}.part-${process.pid}`;
    try {
      const actual = await download(
        url,
        part,
        (received, total) => options.onProgress?.(tool, received, total),
        options.signal,
      );
      if (actual !== sha256) {
        throw new KoalaError(
          `${path.basename(new URL(url).pathname)} from ${url} has SHA-256 ${actual}, ` +
            `expected ${sha256}; the file was deleted`,
          {
            hint:
              'The download was corrupted or tampered with: ' +
              'check the mirror (tools.mirror) or the network, then run the command again.',
          },
        );
      }
      const member = TOOL_PINS[tool].member?.(platform);
      if (member) await writeFile(part, extractTarMember(gunzipSync(await readFile(part)), member, url));
      await chmod(part, 0o755);
      await rename(part, target);
      await writeFile(stamp, `${sha256}\n`);
      installed.push({ tool, fetched: true, version: TOOL_PINS[tool].version, path: target, url, sha256 });
    } finally {
      await rm(part, { force: true });
    }
  }
  return installed;
}

/**
 * Streams the body to `file`, hashing as it goes; returns the SHA-256 in hex. node:http rather
 * than fetch: undici's fetch trips an internal assertion when an HTTP/1.0 server closes the
 * connection while the body is paused. Redirects are followed (kind's and kubectl's URLs redirect).
 */
async function download(
  url: string,
  file: string,
  onProgress: (received: number, total: number | undefined) => void,
  signal?: AbortSignal,
): Promise<string> {
  const response = await get(url, signal, 5);
  const total = Number(response.headers['content-length']) || undefined;
  const hash = createHash('sha256');
  let received = 0;
  const { pipeline } = await import('node:stream/promises');
  const { Transform } = await import('node:stream');
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      received += chunk.length;
      onProgress(received, total);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(response, meter, createWriteStream(file, { mode: 0o600 }), signal ? { signal } : {});
  } catch (error) {
    if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : error;
    throw new KoalaError(`the download of ${url} broke off: ${(error as Error).message}`, {
      hint: 'Run the command again.',
    });
  }
  if (total !== undefined && received !== total)
    throw new KoalaError(`the download of ${url} broke off at ${received} of ${total} bytes`, {
      hint: 'Run the command again.',
    });
  return hash.digest('hex');
}

async function get(url: string, signal: AbortSignal | undefined, redirects: number): Promise<IncomingMessage> {
  const client = url.startsWith('https:') ? await import('node:https') : await import('node:http');
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const request = client.get(url, signal ? { signal } : {}, resolve);
    request.on('error', (error) => {
      if (signal?.aborted) reject(signal.reason instanceof Error ? signal.reason : error);
      else
        reject(
          new KoalaError(`could not fetch ${url}: ${error.message}`, {
            hint: 'Check the network; behind a proxy, point tools.mirror in koala.yaml at a mirror.',
          }),
        );
    });
  });
  const status = response.statusCode ?? 0;
  if (status >= 300 && status < 400 && response.headers.location && redirects > 0) {
    response.resume();
    return get(new URL(response.headers.location, url).toString(), signal, redirects - 1);
  }
  if (status !== 200) {
    response.resume();
    throw new KoalaError(`could not fetch ${url}: HTTP ${status}`, {
      hint: 'Check the URL (tools.mirror in koala.yaml) and run the command again.',
    });
  }
  return response;
}

/** The bytes of one regular file in a tar archive (ustar and GNU headers, no long names). */
export function extractTarMember(tar: Buffer, member: string, source: string): Buffer {
  for (let offset = 0; offset + 512 <= tar.length;) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number): string =>
      header
        .subarray(start, start + length)
        .toString('latin1')
        .replace(/\0.*$/s, '');
    const prefix = field(345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(0, 100);
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const body = offset + 512;
    if (name.replace(/^\.\//, '') === member) return tar.subarray(body, body + size);
    offset = body + Math.ceil(size / 512) * 512;
  }
  throw new KoalaError(`${source} has no ${member} in it`, {
    exitCode: EXIT.failure,
    hint: 'The mirror serves another file under this name: check tools.mirror.',
  });
}

/** Leftovers of downloads that were killed before their cleanup ran. */
async function removeStaleParts(dir: string): Promise<void> {
  if (!existsSync(dir)) return;
  for (const name of await readdir(dir)) {
    const pid = /\.part-(\d+)$/.exec(name)?.[1];
    if (pid && !alive(Number(pid))) await rm(path.join(dir, name), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
