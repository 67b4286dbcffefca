/**
 * Opt-in (KOALA_TEST_PLATFORM_FULL=1, project realkind-platform): the rest of the platform on
 * real kind, beyond the slice every CI run covers (platform.test.ts). On 1 control plane and
 * 3 workers, so the seed's own SparkApplication (a whole CPU for the driver and each of 3
 * executors) fits as written:
 * - the seed's style of SparkApplication YAML, through `koala run -f`;
 * - the Spark operator's pod killed while `koala run` follows: the run still reports its result;
 * - the object store's pod deleted in the middle of a job: the job completes or fails clearly,
 *   and the data written before survives on the store's volume;
 * - a worker node container restarted: `koala status` reports the degraded state, then the
 *   recovery, and a second `koala up` repairs what it must.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { koala, startKoala } from '../support/cli.ts';
import { startChartMirror, type ChartMirror } from '../support/chart-mirror.ts';
import type { JsonDocuments } from '../../src/cli/results.ts';
import { jsonDocument } from '../support/json-documents.ts';
import { executorsThatWorked, platformWorld, readObjects, waitFor, type PlatformWorld } from './platform-world.ts';
import { docker, down, kubectl, skipReason, tryKubectl } from './support.ts';

if (skipReason) console.warn(skipReason);

const figures: Record<string, number | string> = {};
afterAll(() => console.log(`real-kind platform recovery figures: ${JSON.stringify(figures)}`));

/** The seed's spark-applications/pagerank/pagerank.yml, as its README applies it with kubectl. */
const SEED_PAGERANK = `apiVersion: "sparkoperator.k8s.io/v1beta2"
kind: SparkApplication
metadata:
  name: pyspark-pagerank
  namespace: spark-job
spec:
  type: Python
  pythonVersion: "3"
  mode: cluster
  image: "afonsoaugusto/pagerank:latest"
  imagePullPolicy: Always
  mainApplicationFile: local:///app/pagerank.py
  sparkVersion: "3.0.0"
  restartPolicy:
    type: OnFailure
    onFailureRetries: 3
    onFailureRetryInterval: 10
    onSubmissionFailureRetries: 5
    onSubmissionFailureRetryInterval: 20
  driver:
    cores: 1
    coreLimit: "1200m"
    memory: "512m"
    labels:
      version: 3.0.0
    serviceAccount: spark-spark
    envVars:
      FILE_PROCESS: "/app/pagerank_data.txt"
      RANK_TOP: "5"
  executor:
    cores: 1
    instances: 3
    memory: "512m"
    labels:
      version: 3.0.0
`;

const driverRunning = (world: PlatformWorld, pod: string) =>
  waitFor(
    `${pod} running`,
    () =>
      tryKubectl(world, ['get', 'pod', '-n', 'spark-jobs', pod, '-o', 'jsonpath={.status.phase}']).out === 'Running'
        ? true
        : undefined,
    300_000,
  );

describe.skipIf(Boolean(skipReason))('the platform on real kind: recovery, and the seed YAML', () => {
  let world: PlatformWorld;
  let mirror: ChartMirror;
  let image = '';

  beforeAll(async () => {
    mirror = await startChartMirror(path.join(process.env.KOALA_TESTBED_BIN!, 'helm3'));
    world = await platformWorld({ controlPlanes: 1, workers: 3 }, mirror);
    expect((await koala(world, ['new', 'spark-app', 'pagerank'])).code).toBe(0);
    const build = await koala(world, ['build', 'pagerank', '--json']);
    expect(build.code, build.stdout + build.stderr).toBe(0);
    image = jsonDocument('build', build.stdout).image;
  });

  afterAll(async () => {
    if (world) await down(world);
    await mirror?.close();
  });

  it("runs the seed's SparkApplication YAML as written through koala run -f", async () => {
    const file = path.join(world.project, 'pagerank.yml');
    writeFileSync(file, SEED_PAGERANK);
    // Its image and ServiceAccount exist only in the seed's world: koala's stand in for them.
    const run = await koala(world, [
      'run',
      '-f',
      file,
      '-n',
      'spark-jobs',
      '--image',
      image,
      '--service-account',
      'spark-operator-spark',
    ]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout + run.stderr).toMatch(/has rank: \d+\.\d{6}\./);
    const app = JSON.parse(
      kubectl(world, ['get', 'sparkapplications', '-n', 'spark-jobs', 'pyspark-pagerank-1', '-o', 'json']),
    ) as {
      status: { applicationState: { state: string }; executorState?: Record<string, string> };
    };
    expect(app.status.applicationState.state).toBe('COMPLETED');
    const executors = executorsThatWorked(world, 'pyspark-pagerank-1-driver');
    expect(executors.registered, JSON.stringify(app.status)).toBeGreaterThanOrEqual(3);
    expect(executors.ranTasks, executors.log.slice(-4000)).toBeGreaterThanOrEqual(3);
  });

  it("keeps following when the operator's pod is killed, and reports the result", async () => {
    const run = startKoala(world, ['run', 'pagerank']);
    await driverRunning(world, 'pagerank-1-driver');
    kubectl(world, [
      'delete',
      'pod',
      '-n',
      'spark-operator',
      '-l',
      'app.kubernetes.io/component=controller',
      '--wait=false',
    ]);
    const done = await run.done;
    figures.operatorKilledExit = done.code ?? -1;
    expect(done.code, done.stdout + done.stderr).toBe(0);
    expect(done.stdout).toMatch(/has rank:/);
    expect(await readObjects(world, 'spark-data/pagerank/ranks', 'read-after-operator')).toMatch(/page,rank/);
  });

  it("survives the object store's pod deleted mid-job: the job ends clearly, the data stays", async () => {
    const run = startKoala(world, ['run', 'pagerank']);
    await driverRunning(world, 'pagerank-2-driver');
    expect(kubectl(world, ['delete', 'pod', '-n', 'object-store', '-l', 'app=minio', '--wait=false'])).toMatch(
      /pod "minio-.*" deleted/,
    );
    const done = await run.done;
    const out = done.stdout + done.stderr;
    figures.objectStoreDeletedExit = done.code ?? -1;
    // Either s3a's retries carried the write over the restart, or the run failed and says so.
    if (done.code === 0) expect(out).toMatch(/ranks written to s3a:/);
    else expect(out).toMatch(/FAILED|failed/);
    // The ranks of the earlier run were on the store's volume; the new pod serves them.
    kubectl(world, ['rollout', 'status', '-n', 'object-store', 'deployment/minio', '--timeout=300s']);
    expect(await readObjects(world, 'spark-data/pagerank/ranks', 'read-after-store')).toMatch(/page,rank/);
  });

  it('reports a restarted worker as degraded, then recovered; a second up repairs the rest', async () => {
    const worker = `${world.name}-worker3`;
    const t0 = Date.now();
    docker('restart', worker);
    const degraded = await waitFor(
      'status to report the worker',
      async () => {
        const s = await status(world);
        return s.healthy ? undefined : s;
      },
      120_000,
    ).catch(() => undefined);
    figures.degradedSeen = degraded ? JSON.stringify(degraded.nodes) : 'not seen (recovered before the first poll)';
    await waitFor(
      'status to be healthy again',
      async () => ((await status(world)).healthy ? true : undefined),
      300_000,
    );
    figures.workerRecoverySeconds = Math.round((Date.now() - t0) / 1000);
    const up = await koala(world, ['up']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const after = await status(world);
    expect(after.healthy, JSON.stringify(after)).toBe(true);
  });
});

/** `koala status --json`: it exits non-zero when unhealthy and prints its document either way. */
async function status(world: PlatformWorld): Promise<JsonDocuments['status']> {
  return jsonDocument('status', (await koala(world, ['status', '--json'])).stdout);
}
