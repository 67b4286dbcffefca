import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runTool } from '../tools/exec.ts';
import { errorMessage, KoalaError } from '../util/errors.ts';
import { cacheHome } from '../util/paths.ts';
import type { ChartPin } from './pins.ts';

/**
 * Charts come from their pinned repository, or from one mirror (charts.mirror) that replaces
 * every upstream repository, and are kept in a cache: a chart fetched once installs offline
 * from then on. koala fetches and verifies the .tgz itself (the digest from the repository
 * index must match), so helm only ever installs a file on disk and needs no `helm repo add`.
 */

export interface FetchOptions {
  mirror?: string | undefined;
  /** Defaults to <cacheHome>/charts. */
  cacheDir?: string;
  signal?: AbortSignal;
  report?: (line: string) => void;
}

export interface FetchedChart {
  file: string;
  /** The repository it came from. */
  source: string;
  fromCache: boolean;
}

interface CacheRecord {
  source: string;
  sha256: string;
}

export function chartCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheHome(env), 'charts');
}

/** Where a chart is fetched from: the mirror when there is one, else its own repository. */
export function chartSource(pin: ChartPin, mirror: string | undefined): string {
  return (mirror ?? pin.repository).replace(/\/+$/, '');
}

export async function fetchChart(pin: ChartPin, options: FetchOptions = {}): Promise<FetchedChart> {
  const dir = options.cacheDir ?? chartCacheDir();
  const base = `${pin.name}-${pin.version}`;
  const file = path.join(dir, `${base}.tgz`);
  const recordFile = path.join(dir, `${base}.json`);
  const source = chartSource(pin, options.mirror);
  const cached = await readRecord(recordFile);
  const cachedOk = cached !== undefined && existsSync(file) && sha256(await readFile(file)) === cached.sha256;

  if (cachedOk && cached.source === source) return { file, source, fromCache: true };
  try {
    options.report?.(`fetching chart ${base} from ${source}`);
    const data = source.startsWith('oci://')
      ? await pullOci(source, pin, options.signal)
      : await downloadFromIndex(source, pin, options.signal);
    await mkdir(dir, { recursive: true });
    await writeAtomically(file, data);
    await writeAtomically(
      recordFile,
      Buffer.from(`${JSON.stringify({ source, sha256: sha256(data) } satisfies CacheRecord, null, 2)}\n`),
    );
    return { file, source, fromCache: false };
  } catch (error) {
    if (options.signal?.aborted) throw error;
    if (cachedOk) {
      // Same name and version from another repository: use it rather than fail offline.
      options.report?.(`${source} is not reachable; using ${base} cached from ${cached.source}`);
      return { file, source: cached.source, fromCache: true };
    }
    throw new KoalaError(`Could not fetch chart ${base} from ${source}: ${errorMessage(error).split('\n')[0]}`, {
      hint: options.mirror
        ? `Check that the mirror ${options.mirror} serves ${pin.name} ${pin.version} (index.yaml and the .tgz).`
        : 'Check the network, or set charts.mirror in koala.yaml to a chart repository you can reach ' +
          `(behind a proxy, an internal mirror). Fetched charts are cached in ${dir}.`,
      cause: error,
    });
  }
}

/** index.yaml → the entry of this version → its .tgz, checked against the digest the index gives. */
async function downloadFromIndex(repository: string, pin: ChartPin, signal?: AbortSignal): Promise<Buffer> {
  const indexUrl = `${repository}/index.yaml`;
  const { load } = await import('js-yaml');
  const index = load((await get(indexUrl, signal)).toString('utf8')) as {
    entries?: Record<string, Array<{ version?: string; urls?: string[]; digest?: string }>>;
  };
  const versions = index?.entries?.[pin.name];
  if (!versions) throw new Error(`${indexUrl} has no chart "${pin.name}"`);
  const entry = versions.find((e) => String(e.version) === pin.version);
  if (!entry)
    throw new Error(
      `${indexUrl} has no ${pin.name} ${pin.version} (it has ${versions
        .slice(0, 5)
        .map((e) => e.version)
        .join(', ')}${versions.length > 5 ? ', …' : ''})`,
    );
  const url = entry.urls?.[0];
  if (!url) throw new Error(`${indexUrl}: ${pin.name} ${pin.version} has no download URL`);
  const data = await get(new URL(url, `${repository}/`).toString(), signal);
  const want = entry.digest === undefined || entry.digest === null ? undefined : String(entry.digest);
  const got = want === undefined ? undefined : sha256(data);
  if (want && got !== want) {
    throw new Error(
      `${pin.name}-${pin.version}.tgz does not match the digest in ${indexUrl} ` +
        `(got ${got?.slice(0, 12)}…, want ${want.slice(0, 12)}…)`,
    );
  }
  return data;
}

/** OCI registries (oci://host/path): helm pulls <path>/<name>:<version>. */
async function pullOci(source: string, pin: ChartPin, signal?: AbortSignal): Promise<Buffer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'koala-chart-'));
  try {
    await runTool({
      tool: 'helm',
      args: ['pull', `${source}/${pin.name}`, '--version', pin.version, '--destination', dir],
      timeoutMs: 5 * 60_000,
      ...(signal ? { signal } : {}),
    });
    const [name] = (await readdir(dir)).filter((f) => f.endsWith('.tgz'));
    if (!name) throw new Error(`helm pull ${source}/${pin.name} wrote no chart`);
    return await readFile(path.join(dir, name));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function get(url: string, signal?: AbortSignal): Promise<Buffer> {
  const signals = [AbortSignal.timeout(120_000), ...(signal ? [signal] : [])];
  const response = await fetch(url, { signal: AbortSignal.any(signals), redirect: 'follow' });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return Buffer.from(await response.arrayBuffer());
}

async function readRecord(file: string): Promise<CacheRecord | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as CacheRecord;
  } catch {
    return undefined;
  }
}

async function writeAtomically(file: string, data: Buffer): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, file);
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
