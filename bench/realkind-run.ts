/**
 * Real-kind benchmark of the job loop: `koala run pagerank` (image cached) against the seed's way
 * of running the same job, `kubectl apply` of the same SparkApplication, then `kubectl get`
 * every 2 s until it is COMPLETED and `kubectl logs` of the driver, in the same run, on the same
 * cluster (1 control plane + 2 workers, the Spark operator and MinIO from the platform's images
 * built here). Runs alternate, baseline first. Also: the cold run (the image built and pushed),
 * the `koala up` of the platform per step, and the memory of the cluster's containers
 * (`docker stats`) at rest and in the middle of a job.
 *
 *   node bench/realkind-run.ts [rounds]      default 2 rounds
 *
 * Needs the real-kind tier's preparation (scripts/test.sh): the kind daemon, the node image and
 * the platform's images (scripts/testbed/build-platform-images.sh); skips with a note without them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, hostPortsYaml, koala, makeWorld } from '../test/support/cli.ts';
import { startChartMirror } from '../test/support/chart-mirror.ts';
import { clusterMemMiB, realKindBench } from './lib/kind.ts';
import { median } from './lib/testbed.ts';

const rounds = Number(process.argv[2] ?? 2);
const { sh, dockerHost, dockerEnv, ready } = realKindBench(
  'scripts/testbed/build-kind-node.sh',
  'scripts/testbed/build-platform-images.sh',
);
if (!ready) {
  console.log('skipped: the real-kind images are not built (scripts/test.sh builds them)');
  process.exit(0);
}
const kubectlBin = sh('scripts/testbed/build-kind-node.sh', '--print-kubectl');
const images = Object.fromEntries(
  sh('scripts/testbed/build-platform-images.sh', '--print')
    .split('\n')
    .map((l) => l.split('=', 2) as [string, string]),
);
const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8', env: dockerEnv }).trim();
const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const world = makeWorld({
  fakes: [],
  env: {
    DOCKER_HOST: dockerHost,
    KOALA_KIND: sh('scripts/testbed/build-kind.sh', '--print-bin'),
    KOALA_NODE_IMAGE: sh('scripts/testbed/build-kind-node.sh', '--print-image'),
  },
});
const kubectl = (...args: string[]): string =>
  execFileSync(kubectlBin, ['--kubeconfig', world.env.KUBECONFIG!, ...args], { encoding: 'utf8' }).trim();
const clusterMem = (cluster: string): number => clusterMemMiB(cluster, dockerEnv);

const name = `brun${process.pid % 10000}`;
const port = await freePort();
const mirror = await startChartMirror(path.join(process.env.KOALA_TESTBED_BIN!, 'helm3'));
const base = [
  `cluster: { name: ${name}, controlPlanes: 1, workers: 2 }`,
  `registry: { name: reg-${name}, port: ${port}, image: koala-test/registry:3 }`,
  ...(await hostPortsYaml()),
];
try {
  world.writeConfig(
    [
      ...base,
      'components:',
      '  spark-operator: { enabled: false }',
      '  object-store: { enabled: false }',
      '  airflow: { enabled: false }',
    ].join('\n'),
  );
  const bare = await koala(world, ['up', '--json']);
  if (bare.code !== 0) throw new Error(`koala up failed:\n${bare.stdout}${bare.stderr}`);
  const pushed: Record<string, string> = {};
  for (const [key, local] of Object.entries(images)) {
    pushed[key] = `localhost:${port}/${local}`;
    docker('tag', local, pushed[key]);
    docker('push', '-q', pushed[key]);
  }
  world.writeConfig(
    [
      ...base,
      'images:',
      ...Object.entries(pushed).map(([k, v]) => `  ${k}: ${v}`),
      `charts: { mirror: ${mirror.url} }`,
      'timeouts: { componentSeconds: 420 }',
      'components: { airflow: { enabled: false } }',
    ].join('\n'),
  );
  const t0 = performance.now();
  const up = await koala(world, ['up', '--json']);
  const upMs = performance.now() - t0;
  if (up.code !== 0) throw new Error(`koala up failed:\n${up.stdout}${up.stderr}`);
  const steps = (JSON.parse(up.stdout) as { steps: Array<{ id: string; status: string; durationMs: number }> }).steps;
  await sleep(20_000);
  const memAtRest = clusterMem(name);

  await koala(world, ['new', 'spark-app', 'pagerank']);
  const c0 = performance.now();
  const cold = await koala(world, ['run', 'pagerank']);
  const coldMs = performance.now() - c0;
  if (cold.code !== 0) throw new Error(`koala run failed:\n${cold.stdout}${cold.stderr}`);

  // The same SparkApplication koala submitted, as a file the seed's workflow would apply.
  const submitted = JSON.parse(kubectl('get', 'sparkapplication', '-n', 'spark-jobs', 'pagerank-1', '-o', 'json')) as {
    apiVersion: string;
    kind: string;
    spec: unknown;
  };
  const manifest = (n: number) => ({
    apiVersion: submitted.apiVersion,
    kind: submitted.kind,
    metadata: { name: `seed-pagerank-${n}`, namespace: 'spark-jobs' },
    spec: submitted.spec,
  });
  const memDuring: number[] = [];
  const sampleWhile = (pod: string): (() => Promise<void>) => {
    let stop = false;
    const sampling = (async () => {
      for (let i = 0; !stop && i < 300; i++) {
        const phase = spawnSync(
          kubectlBin,
          [
            '--kubeconfig',
            world.env.KUBECONFIG!,
            'get',
            'pod',
            '-n',
            'spark-jobs',
            pod,
            '-o',
            'jsonpath={.status.phase}',
          ],
          { encoding: 'utf8' },
        ).stdout;
        if (phase === 'Running') {
          await sleep(20_000); // executors up, the job under way
          if (!stop) memDuring.push(clusterMem(name));
          return;
        }
        await sleep(1000);
      }
    })();
    return async () => {
      stop = true;
      await sampling;
    };
  };

  const baseline: number[] = [];
  const koalaRuns: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    const file = path.join(world.dir, `seed-${round}.json`);
    writeFileSync(file, JSON.stringify(manifest(round)));
    const done = sampleWhile(`seed-pagerank-${round}-driver`);
    const b0 = performance.now();
    kubectl('apply', '-f', file);
    for (;;) {
      const state = kubectl(
        'get',
        'sparkapplication',
        '-n',
        'spark-jobs',
        `seed-pagerank-${round}`,
        '-o',
        'jsonpath={.status.applicationState.state}',
      );
      if (state === 'COMPLETED' || state === 'FAILED') break;
      await sleep(2000);
    }
    kubectl('logs', '-n', 'spark-jobs', `seed-pagerank-${round}-driver`);
    baseline.push(performance.now() - b0);
    await done();

    const k0 = performance.now();
    const run = await koala(world, ['run', 'pagerank']);
    koalaRuns.push(performance.now() - k0);
    if (run.code !== 0) throw new Error(`koala run failed:\n${run.stdout}${run.stderr}`);
  }

  console.log('real kind 1+2, the Spark operator and MinIO from images built here; pagerank with 3 executors');
  console.log(`  koala up of the platform on the running cluster    ${s(upMs)}`);
  for (const st of steps.filter((x) => x.status === 'done')) console.log(`    ${st.id.padEnd(22)} ${s(st.durationMs)}`);
  console.log(`  koala run pagerank, cold (build, push, pull, run)   ${s(coldMs)}`);
  const all = (xs: number[]): string => xs.map(s).join(', ');
  console.log(
    `  kubectl apply + poll + logs (baseline), ${rounds} runs   median ${s(median(baseline))}   (${all(baseline)})`,
  );
  console.log(
    `  koala run pagerank, image cached, ${rounds} runs       median ${s(median(koalaRuns))}   (${all(koalaRuns)})   ` +
      `${(median(koalaRuns) / median(baseline)).toFixed(3)}x baseline`,
  );
  const during = memDuring.join(', ') || 'not sampled';
  console.log(`  cluster containers (docker stats): at rest ${memAtRest} MiB, during a job ${during} MiB`);
} finally {
  await koala(world, ['down', '--yes']);
  await mirror.close();
}
