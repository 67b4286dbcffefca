/**
 * A chart mirror on 127.0.0.1 for the platform tests: koala's pinned charts as stand-ins
 * (test/charts), packaged with `helm package`, indexed with `helm repo index`, and served by a
 * tiny static HTTP server. The spark-operator stand-in gets the real CRDs from the shared
 * fixtures. Tests set charts.mirror to its URL, as a user behind a proxy would.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sparkOperatorFixtures } from './fixtures.ts';

// No import of ./testbed.ts: benchmarks use this outside vitest.
const REPO = path.resolve(import.meta.dirname, '../..');
export const FIXTURE_CRDS = sparkOperatorFixtures();
const STAND_INS = path.join(REPO, 'test/charts');

export interface ChartMirror {
  url: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** Package the stand-ins with `helm` (any version) into a directory with an index.yaml. */
export function packageStandIns(helm: string): string {
  const work = mkdtempSync(path.join(os.tmpdir(), 'koala-mirror-'));
  const src = path.join(work, 'src');
  const repo = path.join(work, 'repo');
  mkdirSync(repo);
  cpSync(STAND_INS, src, { recursive: true });
  const crds = path.join(src, 'spark-operator', 'crds');
  mkdirSync(crds, { recursive: true });
  for (const file of ['sparkoperator.k8s.io_sparkapplications.yaml', 'sparkoperator.k8s.io_scheduledsparkapplications.yaml']) {
    const from = path.join(FIXTURE_CRDS, file);
    if (!existsSync(from)) throw new Error(`missing fixture ${from}`);
    cpSync(from, path.join(crds, file));
  }
  const env = { ...process.env, HELM_CONFIG_HOME: path.join(work, 'helm'), HELM_CACHE_HOME: path.join(work, 'helm'), HELM_DATA_HOME: path.join(work, 'helm') };
  for (const chart of readdirSync(src).filter((d) => existsSync(path.join(src, d, 'Chart.yaml')))) {
    execFileSync(helm, ['package', path.join(src, chart), '--destination', repo], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  // Relative URLs in the index, as many mirrors serve them: koala resolves them against it.
  execFileSync(helm, ['repo', 'index', repo], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  rmSync(src, { recursive: true, force: true });
  return repo;
}

export async function startChartMirror(helm: string): Promise<ChartMirror> {
  const repo = packageStandIns(helm);
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname).replace(/^\/+/, '');
    requests.push(`/${name}`);
    const file = path.join(repo, name);
    if (!name || name.includes('..') || !existsSync(file)) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': name.endsWith('.yaml') ? 'application/yaml' : 'application/gzip' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        rmSync(path.dirname(repo), { recursive: true, force: true });
      }),
  };
}
