/**
 * Real-kind benchmark of a batch pipeline run: `koala pipelines run <name> --wait` against what a
 * kubectl user does with the same CronJob (`kubectl create job --from=cronjob/<name>`, then
 * `kubectl wait --for=condition=complete`), in the same run, on the same 1-node cluster, rounds
 * alternating, baseline first. The pipeline has 3 busybox steps and an expiry (so its gate runs
 * too). Also: `koala pipelines deploy` of the unchanged file against `kubectl apply
 * --server-side` of the CronJob it renders.
 *
 *   node bench/realkind-pipeline.ts [rounds]      default 3 rounds
 *
 * Needs the real-kind tier's preparation (scripts/test.sh); skips with a note without it.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, hostPortsYaml, koala, makeWorld } from '../test/support/cli.ts';
import { realKindBench } from './lib/kind.ts';
import { median } from './lib/testbed.ts';

const rounds = Number(process.argv[2] ?? 3);
const { sh, dockerHost, dockerEnv, ready } = realKindBench('scripts/testbed/build-kind-node.sh');
if (!ready) {
  console.log('skipped: the real-kind images are not built (scripts/test.sh builds them)');
  process.exit(0);
}
const kind = sh('scripts/testbed/build-kind.sh', '--print-bin');
const kubectlBin = sh('scripts/testbed/build-kind-node.sh', '--print-kubectl');
const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
// busybox, built here (scripts/docker/base-image.sh), loaded onto the node: no registry pull.
const IMAGE = 'koala-test/base:1';

const world = makeWorld({
  fakes: [],
  env: {
    DOCKER_HOST: dockerHost,
    KOALA_KIND: kind,
    KOALA_NODE_IMAGE: sh('scripts/testbed/build-kind-node.sh', '--print-image'),
  },
});
const name = `bp${process.pid % 10000}`;
world.writeConfig(
  [
    `cluster: { name: ${name}, controlPlanes: 1, workers: 0 }`,
    `registry: { name: reg-${name}, port: ${await freePort()}, image: koala-test/registry:3 }`,
    ...(await hostPortsYaml()),
    `images: { busybox: ${IMAGE} }`,
    'components: { spark-operator: { enabled: false }, object-store: { enabled: false }, airflow: { enabled: false } }',
  ].join('\n'),
);
const step = (id: string): string =>
  `      - { name: ${id}, image: ${IMAGE}, imagePullPolicy: IfNotPresent, command: [sh, -c, "echo ${id}"] }`;
const file = path.join(world.project, 'bench.yaml');
writeFileSync(
  file,
  [
    'apiVersion: koala.dev/v1',
    'kind: Pipeline',
    'metadata: { name: bench }',
    'spec:',
    '  batchJob:',
    '    steps:',
    step('extract'),
    step('transform'),
    step('load'),
    '  strategy:',
    '    expire: "2999-01-01 00:00:00"',
    '    timeout: 5m',
  ].join('\n') + '\n',
);

const run = async (args: string[]): Promise<string> => {
  const r = await koala(world, args);
  if (r.code !== 0) throw new Error(`koala ${args.join(' ')} failed:\n${r.stderr}\n${r.stdout}`);
  return r.stdout;
};
const kubeconfig = path.join(world.dir, 'kubeconfig');
const kubectl = (...args: string[]): string =>
  execFileSync(kubectlBin, ['--kubeconfig', kubeconfig, '-n', 'tasks', ...args], { encoding: 'utf8' }).trim();
const timed = async (f: () => unknown): Promise<number> => {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
};

try {
  await run(['up', '--json']);
  execFileSync(kind, ['load', 'docker-image', IMAGE, '--name', name], { env: dockerEnv, stdio: 'ignore' });
  writeFileSync(kubeconfig, execFileSync(kind, ['get', 'kubeconfig', '--name', name], { env: dockerEnv }));
  await run(['pipelines', 'deploy', file]);
  const rendered = path.join(world.dir, 'cronjob.json');
  const dry = JSON.parse(await run(['pipelines', 'deploy', file, '--dry-run', '--json'])) as { manifests: unknown[] };
  writeFileSync(rendered, JSON.stringify(dry.manifests[0]));

  const koalaRun: number[] = [];
  const kubectlRun: number[] = [];
  const koalaDeploy: number[] = [];
  const kubectlApply: number[] = [];
  // A warm-up round of each, not counted: the first pod on the node pays for the image's unpacking.
  for (let round = -1; round < rounds; round += 1) {
    const job = `bench-k${round + 1}`;
    const base = await timed(() => {
      kubectl('create', 'job', job, '--from=cronjob/bench');
      kubectl('wait', '--for=condition=complete', `job/${job}`, '--timeout=300s');
    });
    const mine = await timed(() => run(['pipelines', 'run', 'bench', '--wait', '--json']));
    const apply = await timed(() => kubectl('apply', '--server-side', '--field-manager=bench', '-f', rendered));
    const deploy = await timed(() => run(['pipelines', 'deploy', file, '--json']));
    if (round < 0) continue;
    kubectlRun.push(base);
    koalaRun.push(mine);
    kubectlApply.push(apply);
    koalaDeploy.push(deploy);
  }
  const line = (label: string, xs: number[]): string => `  ${label.padEnd(58)} ${xs.map(s).join(', ')}`;
  console.log(`real kind, 1 node; a batch pipeline of 3 busybox steps and its expiry gate; ${rounds} rounds`);
  console.log(line('kubectl create job --from=cronjob + kubectl wait (baseline)', kubectlRun));
  console.log(line('koala pipelines run --wait', koalaRun));
  console.log(
    `  run: median ${s(median(koalaRun))} vs ${s(median(kubectlRun))}: ` +
      `${(median(koalaRun) / median(kubectlRun)).toFixed(3)}x baseline`,
  );
  console.log(line('kubectl apply --server-side of the CronJob (baseline)', kubectlApply));
  console.log(line('koala pipelines deploy, unchanged', koalaDeploy));
  console.log(
    `  deploy: median ${s(median(koalaDeploy))} vs ${s(median(kubectlApply))}: ` +
      `${(median(koalaDeploy) / median(kubectlApply)).toFixed(3)}x baseline`,
  );
} finally {
  await koala(world, ['down', '--yes']);
}
