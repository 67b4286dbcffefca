/**
 * Real-kind benchmark: `koala up` (cluster and registry, components off) against a bare
 * `kind create cluster` with the same kind config plus a wait for every node Ready, in the
 * same run, with the same test node image and the same kind daemon. Goal: koala ≤ 1.05x.
 * Also prints `free -m` used memory before and with each cluster.
 *
 *   node bench/realkind-up.ts            1 control plane + 2 workers
 *   node bench/realkind-up.ts 3 3        the default shape (3 + 3)
 *
 * Needs scripts/docker/ensure-kind-dockerd.sh and scripts/testbed/build-kind-node.sh (the
 * real-kind tier's preparation, done by scripts/test.sh); skips with a note without them.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort, hostPortsYaml, koala, makeWorld } from '../test/support/cli.ts';
import { clusterMemMiB } from './lib/kind.ts';

const REPO = path.resolve(import.meta.dirname, '..');
const sh = (script: string, ...args: string[]): string =>
  execFileSync('bash', [path.join(REPO, script), ...args], { encoding: 'utf8' }).trim();
process.env.KOALA_TESTBED_BIN ??= sh('scripts/testbed/env.sh');
const [controlPlanes, workers] = [Number(process.argv[2] ?? 1), Number(process.argv[3] ?? 2)];
// Starts kind's daemon when it is down and raises the host's inotify limits multi-node kind needs.
sh('scripts/docker/ensure-kind-dockerd.sh');
const dockerHost = sh('scripts/docker/ensure-kind-dockerd.sh', '--host');
const kind = sh('scripts/testbed/build-kind.sh', '--print-bin');
const nodeImage = sh('scripts/testbed/build-kind-node.sh', '--print-image');
const kubectl = sh('scripts/testbed/build-kind-node.sh', '--print-kubectl');
const dockerEnv = { ...process.env, DOCKER_HOST: dockerHost };

if (
  spawnSync('bash', [path.join(REPO, 'scripts/testbed/build-kind-node.sh'), '--check'], { env: dockerEnv }).status !== 0
) {
  console.log('skipped: the real-kind images are not built (scripts/testbed/build-kind-node.sh)');
  process.exit(0);
}

const memUsed = (): number =>
  Number(
    execFileSync('free', ['-m'], { encoding: 'utf8' })
      .split('\n')
      .find((l) => l.startsWith('Mem:'))!
      .split(/\s+/)[2],
  );
const s = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const containerMem = (cluster: string): number => clusterMemMiB(cluster, dockerEnv);

const world = makeWorld({
  fakes: [],
  env: { DOCKER_HOST: dockerHost, KOALA_KIND: kind, KOALA_NODE_IMAGE: nodeImage },
});
const name = `bench${process.pid % 10000}`;
world.writeConfig(
  [
    `cluster: { name: ${name}, controlPlanes: ${controlPlanes}, workers: ${workers} }`,
    `registry: { name: reg-${name}, port: ${await freePort()}, image: koala-test/registry:3 }`,
    ...(await hostPortsYaml()),
    'components: { spark-operator: { enabled: false }, object-store: { enabled: false }, airflow: { enabled: false } }',
  ].join('\n'),
);

// The baseline: kind alone, with the kind config koala renders (dry run), under another name.
const dry = JSON.parse((await koala(world, ['up', '--dry-run', '--json'])).stdout) as {
  steps: Array<{ id: string; actions: Array<{ kind: string; manifest?: Record<string, unknown> }> }>;
};
const kindConfig = dry.steps.find((st) => st.id === 'cluster')!.actions.find((a) => a.kind === 'manifest')!.manifest!;
const bare = `${name}b`;
const configFile = path.join(world.dir, 'kind-config.json');
writeFileSync(configFile, JSON.stringify({ ...kindConfig, name: bare }));
const bareKubeconfig = path.join(world.dir, 'bare-kubeconfig');

const memBefore = memUsed();
let bareMs: number;
let bareMem: number;
let bareContainers: number;
try {
  const t0 = performance.now();
  execFileSync(kind, ['create', 'cluster', '--name', bare, '--config', configFile, '--kubeconfig', bareKubeconfig], {
    env: dockerEnv,
    stdio: 'inherit',
  });
  execFileSync(
    kubectl,
    ['--kubeconfig', bareKubeconfig, 'wait', '--for=condition=Ready', 'nodes', '--all', '--timeout=600s'],
    { stdio: 'inherit' },
  );
  bareMs = performance.now() - t0;
  bareMem = memUsed();
  bareContainers = containerMem(bare);
} finally {
  execFileSync(kind, ['delete', 'cluster', '--name', bare, '--kubeconfig', bareKubeconfig], {
    env: dockerEnv,
    stdio: 'inherit',
  });
}

let koalaMs: number;
let koalaMem: number;
let koalaContainers: number;
let steps: Array<{ id: string; durationMs: number }> = [];
try {
  const t0 = performance.now();
  const up = await koala(world, ['up', '--json']);
  koalaMs = performance.now() - t0;
  if (up.code !== 0) throw new Error(`koala up failed:\n${up.stderr}\n${up.stdout}`);
  steps = (JSON.parse(up.stdout) as { steps: typeof steps }).steps;
  koalaMem = memUsed();
  koalaContainers = containerMem(name);
} finally {
  await koala(world, ['down', '--yes']);
}

console.log(`real kind, ${controlPlanes} control plane(s) + ${workers} worker(s), node image ${nodeImage}`);
const memory = (used: number, containers: number): string =>
  `free -m used +${used - memBefore} MiB, containers ${containers} MiB`;
console.log(
  `  kind create cluster + wait for nodes Ready (baseline)   ${s(bareMs)}   ${memory(bareMem, bareContainers)}`,
);
console.log(
  `  koala up (cluster + registry)                           ${s(koalaMs)}   ` +
    `${(koalaMs / bareMs).toFixed(3)}x baseline   ${memory(koalaMem, koalaContainers)}`,
);
for (const st of steps) console.log(`    ${st.id.padEnd(18)} ${s(st.durationMs)}`);
