/**
 * A real kind cluster with koala's platform on it (the Spark operator and MinIO; Airflow when asked),
 * for the platform tests: `koala up` makes the cluster and its registry, the images built here
 * (scripts/testbed/build-platform-images.sh) are pushed to that registry, as a team without
 * access to the upstream registries would mirror them, and koala.yaml's image overrides point
 * at them; a second `koala up` installs the components from the chart mirror.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { koala } from '../support/cli.ts';
import { testChartVersionsYaml, type ChartMirror } from '../support/chart-mirror.ts';
import { upRunDocument } from '../support/json-documents.ts';
import { expectedRanks, parseEdges } from '../support/pagerank.ts';
import { docker, down, kubectl, realWorld, sleep, tryKubectl, type RealWorld } from './support.ts';

export interface PlatformWorld extends RealWorld {
  /** koala.yaml's image key -> the reference in the cluster's registry. */
  images: Record<string, string>;
  /** Seconds of the `koala up` that installed the components. */
  platformUpSeconds: number;
  /** Seconds of each step that did work, over both `koala up` runs. */
  upSteps: Record<string, number>;
}

function stepSeconds(stdout: string): Record<string, number> {
  const doc = upRunDocument(stdout);
  return Object.fromEntries(
    doc.steps.filter((s) => s.status === 'done').map((s) => [s.id, Math.round(s.durationMs / 100) / 10]),
  );
}

export async function platformWorld(
  shape: { controlPlanes: number; workers: number },
  mirror: ChartMirror,
  options: { airflow?: boolean } = {},
): Promise<PlatformWorld> {
  const world = await realWorld(shape);
  // The caller has no world to take down when this fails: the cluster goes here, so it does not
  // hold the two cores for the rest of the run.
  try {
    return await installPlatform(world, mirror, options);
  } catch (error) {
    await down(world);
    throw error;
  }
}

async function installPlatform(
  world: RealWorld,
  mirror: ChartMirror,
  options: { airflow?: boolean },
): Promise<PlatformWorld> {
  const bare = await koala(world, ['up', '--json']);
  expect(bare.code, bare.stdout + bare.stderr).toBe(0);
  const images: Record<string, string> = {};
  const built = {
    ...(JSON.parse(process.env.KOALA_PLATFORM_IMAGES!) as Record<string, string>),
    // Airflow and its Postgres (scripts/testbed/build-airflow-images.sh), for the tests that run it.
    ...(options.airflow ? (JSON.parse(process.env.KOALA_AIRFLOW_IMAGES!) as Record<string, string>) : {}),
  };
  for (const [key, local] of Object.entries(built)) {
    const pushed = `localhost:${world.registryPort}/${local}`;
    docker('tag', local, pushed);
    docker('push', '-q', pushed);
    images[key] = pushed;
  }
  // The mc image is busybox plus mc: it is the shell a batch pipeline's expiry check runs in too.
  images.busybox ??= images.mc!;
  // The same cluster, registry and host ports, now with the platform's components.
  const base = readFileSync(path.join(world.project, 'koala.yaml'), 'utf8').split('components:')[0]!;
  world.writeConfig(
    [
      base.trimEnd(),
      'images:',
      ...Object.entries(images).map(([key, image]) => `  ${key}: ${image}`),
      `charts: { mirror: ${mirror.url} }`,
      // Two cores pull and start a 1 GB Spark image on each node.
      'timeouts: { componentSeconds: 420 }',
      'components:',
      ...(options.airflow ? testChartVersionsYaml() : ['  airflow: { enabled: false }']),
    ].join('\n'),
  );
  const t0 = Date.now();
  const up = await koala(world, ['up', '--json']);
  expect(up.code, up.stdout + up.stderr).toBe(0);
  return Object.assign(world, {
    images,
    platformUpSeconds: Math.round((Date.now() - t0) / 1000),
    upSteps: { ...stepSeconds(bare.stdout), ...stepSeconds(up.stdout) },
  });
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs: number,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(2000);
  }
}

/** The phase of a pod once it is one of `phases`. */
export function podPhase(world: RealWorld, namespace: string, pod: string, phases: string[]): Promise<string> {
  return waitFor(
    `pod ${namespace}/${pod} to be ${phases.join(' or ')}`,
    () => {
      const phase = tryKubectl(world, ['get', 'pod', '-n', namespace, pod, '-o', 'jsonpath={.status.phase}']).out;
      return phases.includes(phase) ? phase : undefined;
    },
    180_000,
  );
}

/**
 * The objects under a prefix of the object store, concatenated, read by the MinIO client in a
 * pod of the job namespace with the keys of the job Secret (never on a command line).
 */
export async function readObjects(world: PlatformWorld, prefix: string, pod: string): Promise<string> {
  kubectl(
    world,
    ['apply', '-f', '-'],
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: pod, namespace: 'spark-jobs' },
      spec: {
        restartPolicy: 'Never',
        containers: [
          {
            name: 'mc',
            image: world.images.mc,
            envFrom: [{ secretRef: { name: 'object-store-s3' } }],
            env: [{ name: 'MC_CONFIG_DIR', value: '/tmp/.mc' }],
            command: [
              '/bin/sh',
              '-ec',
              'keys="$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY@"; ' +
                'export MC_HOST_store="$(echo "$AWS_ENDPOINT_URL" | sed "s#://#://$keys#")"; ' +
                `mc find store/${prefix} --name "part-*" --exec "mc cat {}"`,
            ],
          },
        ],
      },
    }),
  );
  const phase = await podPhase(world, 'spark-jobs', pod, ['Succeeded', 'Failed']);
  const out = kubectl(world, ['logs', '-n', 'spark-jobs', pod]);
  expect(phase, out).toBe('Succeeded');
  return out;
}

/**
 * How many executors the SparkApplication's driver saw register, and how many ran tasks, read
 * from the driver's log. The operator's executorState is no measure of this: when the driver
 * stops it deletes its executor pods, and one still shutting down is recorded as FAILED though
 * the job is done.
 */
export function executorsThatWorked(
  world: RealWorld,
  driverPod: string,
): { registered: number; ranTasks: number; log: string } {
  const log = kubectl(world, ['logs', '-n', 'spark-jobs', driverPod]);
  const ids = (re: RegExp): number => new Set([...log.matchAll(re)].map((m) => m[1])).size;
  return {
    registered: ids(/Registered executor .* with ID (\d+)/g),
    ranTasks: ids(/Finished task .* \(executor (\d+)\)/g),
    log,
  };
}

/**
 * The ranks the pagerank app wrote to MinIO, read back by `readObjects` in pod `pod`, equal to
 * PageRank computed here over the app's bundled graph (10 iterations).
 */
export async function expectRanksInStore(world: PlatformWorld, pod: string): Promise<void> {
  const csv = await readObjects(world, 'spark-data/pagerank/ranks', pod);
  const written = new Map(
    csv
      .split('\n')
      .filter((l) => l && l !== 'page,rank')
      .map((l) => l.split(',') as [string, string])
      .map(([page, rank]) => [page, Number(rank)]),
  );
  const data = readFileSync(path.join(world.project, 'spark-applications/pagerank/data/pagerank_data.txt'), 'utf8');
  const expected = expectedRanks(parseEdges(data), 10);
  expect([...written.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [page, rank] of expected) expect(written.get(page)).toBeCloseTo(rank, 6);
}
