/**
 * A chart mirror on 127.0.0.1 for the platform tests: the real upstream chart archives from the
 * shared fixtures (spark-operator, MinIO, SeaweedFS, and Airflow's chart from its main branch),
 * indexed with `helm repo index` and served by a tiny static HTTP server. Tests set charts.mirror
 * to its URL, as a user behind a proxy would, and pin Airflow's chart to the version the fixtures
 * hold (TEST_CHART_VERSIONS).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, createReadStream, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fixturesDir, sparkOperatorFixtures } from './fixtures.ts';

// No import of ./testbed.ts: benchmarks use this outside vitest.
export const FIXTURE_CRDS = sparkOperatorFixtures();

/** The chart archives in the fixtures: every chart koala installs, as published upstream. */
export function fixtureCharts(): string {
  return path.join(fixturesDir(), 'charts');
}

/**
 * Chart versions the tests pin through koala.yaml where the fixtures hold another version than
 * koala's pin: Airflow's 1.22.0 archive could not be had, its chart from main (1.20.0-dev) is.
 */
export const TEST_CHART_VERSIONS = { airflow: '1.20.0-dev' } as const;

/** The same, as koala.yaml lines (under `components:`). */
export function testChartVersionsYaml(): string[] {
  return Object.entries(TEST_CHART_VERSIONS).flatMap(([component, version]) => [
    `  ${component}:`,
    `    version: ${version}`,
  ]);
}

/** koala.yaml lines for a platform from this mirror: the test charts, and a component deadline for two cores. */
export function platformFromMirrorYaml(mirror: ChartMirror): string[] {
  return [
    'charts:',
    `  mirror: ${mirror.url}`,
    'timeouts:',
    '  componentSeconds: 180',
    'components:',
    ...testChartVersionsYaml(),
  ];
}

export interface ChartMirror {
  url: string;
  /** Paths requested so far, in order. */
  requests: string[];
  close(): Promise<void>;
}

/** A directory with the real chart archives and an index.yaml made by `helm repo index` (any version). */
export function packageCharts(helm: string): string {
  const work = mkdtempSync(path.join(os.tmpdir(), 'koala-mirror-'));
  const repo = path.join(work, 'repo');
  mkdirSync(repo);
  const archives = readdirSync(fixtureCharts()).filter((f) => f.endsWith('.tgz'));
  if (archives.length < 4)
    throw new Error(
      `expected the four upstream chart archives in ${fixtureCharts()}, found ${archives.join(', ') || 'none'}`,
    );
  for (const archive of archives) copyFileSync(path.join(fixtureCharts(), archive), path.join(repo, archive));
  const env = {
    ...process.env,
    HELM_CONFIG_HOME: path.join(work, 'helm'),
    HELM_CACHE_HOME: path.join(work, 'helm'),
    HELM_DATA_HOME: path.join(work, 'helm'),
  };
  // Relative URLs in the index, as many mirrors serve them: koala resolves them against it.
  execFileSync(helm, ['repo', 'index', repo], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  return repo;
}

export async function startChartMirror(helm: string): Promise<ChartMirror> {
  const repo = packageCharts(helm);
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

/**
 * The claims the platform makes with koala's values (MinIO's data, Airflow's Postgres): the test
 * bed has no volume provisioner, so each gets a hostPath PersistentVolume reserved for it, and
 * the real PV controller binds them.
 */
export function platformVolumes(prefix: string, namespaces: { objectStore: string; airflow: string }): object[] {
  const volume = (name: string, storage: string, namespace: string, claim: string) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: `${prefix}-${name}` },
    spec: {
      capacity: { storage },
      accessModes: ['ReadWriteOnce'],
      hostPath: { path: `/tmp/${prefix}-${name}` },
      claimRef: { namespace, name: claim },
    },
  });
  return [
    volume('pg', '2Gi', namespaces.airflow, 'data-airflow-postgres-0'),
    volume('minio', '10Gi', namespaces.objectStore, 'minio'),
  ];
}
