/**
 * The end state of `koala up` with the whole platform, for tests that stop it on the way (Ctrl-C,
 * a failing tool) and check that the next run converges to what an uninterrupted run makes: the
 * same Helm releases, all deployed; the same objects in koala's namespaces and cluster-wide; the
 * same containers, networks and volumes; the credentials in the cluster equal to koala's file.
 *
 * The world is the process tests' (kind stand-in with a real API server per cluster, fake
 * docker), with the real charts through the chart mirror and the real helm behind the recording
 * wrapper test/fakes/bin/helm, so faults can be set on a release.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  freePort,
  hostPortsYaml,
  koala,
  makeWorld,
  startKoala,
  waitForOutput,
  type KoalaResult,
  type World,
} from '../support/cli.ts';
import { afterAll, beforeAll, expect } from 'vitest';
import { platformVolumes, startChartMirror, testChartVersionsYaml, type ChartMirror } from '../support/chart-mirror.ts';
import { REPO, testbed } from '../support/testbed.ts';

export interface PlatformWorld extends World {
  name: string;
  registryPort: number;
  kubectl(args: string[], input?: string): string;
  /** Stop the static volume offers. */
  stop(): void;
}

const NAMESPACES = ['koala-system', 'spark-operator', 'spark-jobs', 'object-store', 'airflow'];

/**
 * A world that installs everything, with the volumes the test bed cannot provision offered as
 * soon as a cluster answers.
 */
export async function platformWorld(mirror: ChartMirror, helm: 'helm3' | 'helm4' = 'helm4'): Promise<PlatformWorld> {
  const world = makeWorld({ env: { KOALA_IGNORE_CHECKS: 'inotify' } });
  const name = `cv${randomBytes(2).toString('hex')}`;
  const registryPort = await freePort();
  world.env.KOALA_HELM = path.join(REPO, 'test/fakes/bin/helm');
  world.env.KOALA_REAL_HELM = path.join(testbed().binDir, helm);
  world.writeConfig(
    [
      'cluster:',
      `  name: ${name}`,
      '  controlPlanes: 1',
      '  workers: 1',
      'registry:',
      `  port: ${registryPort}`,
      ...(await hostPortsYaml()),
      'charts:',
      `  mirror: ${mirror.url}`,
      'timeouts:',
      '  componentSeconds: 120',
      'components:',
      ...testChartVersionsYaml(),
    ].join('\n'),
  );
  const kubectl = (args: string[], input?: string): string =>
    execFileSync('kubectl', ['--kubeconfig', world.env.KUBECONFIG!, '--context', `kind-${name}`, ...args], {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(input ? { input } : {}),
    });
  // The stand-in's clusters have no volume provisioner: offer MinIO and Postgres their volumes
  // whenever a cluster of this name answers (a fresh one after each `down`). Asynchronous and
  // bounded, so a cluster that is still starting never blocks the test's own event loop.
  const volumes = JSON.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: platformVolumes(name, { objectStore: 'object-store', airflow: 'airflow' }),
  });
  const base = ['--kubeconfig', world.env.KUBECONFIG!, '--context', `kind-${name}`, '--request-timeout=5s'];
  let offered = '';
  let busy = false;
  const offer = async (): Promise<void> => {
    const server = (
      await run('kubectl', [...base, 'config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'])
    ).trim();
    if (server && server !== offered) {
      await run('kubectl', [...base, 'apply', '-f', '-'], volumes);
      offered = server;
    }
    await freeReleasedVolumes();
  };
  // kind's local-path provisioner deletes a volume whose claim is gone and makes a new one for the
  // next claim. These volumes are reserved by claim name, so a release that was uninstalled (an
  // interrupted first install is removed, a failed one rolled back) leaves its volume Released,
  // bound to a claim that no longer exists: forgetting that claim's uid offers it to the next one.
  const freeReleasedVolumes = async (): Promise<void> => {
    const phase = '{range .items[?(@.status.phase=="Released")]}{.metadata.name}{"\\n"}{end}';
    const released = (await run('kubectl', [...base, 'get', 'pv', '-o', `jsonpath=${phase}`]))
      .split('\n')
      .filter((pv) => pv.startsWith(`${name}-`));
    const forget = JSON.stringify([
      { op: 'remove', path: '/spec/claimRef/uid' },
      { op: 'remove', path: '/spec/claimRef/resourceVersion' },
    ]);
    for (const pv of released) await run('kubectl', [...base, 'patch', 'pv', pv, '--type', 'json', '-p', forget]);
  };
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    offer()
      .catch(() => (offered = '')) // no cluster yet, or it went away
      .finally(() => (busy = false));
  }, 500);
  return Object.assign(world, { name, registryPort, kubectl, stop: () => clearInterval(timer) });
}

/** A command with a deadline, off the event loop. */
function run(file: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { timeout: 10_000, encoding: 'utf8' }, (error, stdout) =>
      error ? reject(error) : resolve(stdout),
    );
    child.stdin?.end(input ?? '');
  });
}

export interface EndState {
  releases: string[];
  objects: string[];
  clusterObjects: string[];
  docker: string[];
  problems: string[];
}

/** What the cluster and Docker hold, by name (hashes and revisions left out), and what is inconsistent. */
export function endState(world: PlatformWorld): EndState {
  const tb = testbed();
  const helm = path.join(tb.binDir, 'helm4');
  const helmList = JSON.parse(
    execFileSync(
      helm,
      [
        'list',
        '-A',
        '--deployed',
        '--failed',
        '--pending',
        '--uninstalling',
        '-o',
        'json',
        '--kubeconfig',
        world.env.KUBECONFIG!,
        '--kube-context',
        `kind-${world.name}`,
      ],
      { encoding: 'utf8' },
    ),
  ) as Array<{ name: string; namespace: string; chart: string; status: string }>;
  const releases = helmList.map((r) => `${r.namespace}/${r.name} ${r.chart} ${r.status}`).sort();
  type Item = {
    kind: string;
    type?: string;
    metadata: { name: string; namespace?: string };
    spec?: { ttlSecondsAfterFinished?: number };
  };
  const list = (kinds: string, all: boolean): Item[] =>
    (JSON.parse(world.kubectl(['get', kinds, ...(all ? ['-A'] : []), '-o', 'json'])) as { items: Item[] }).items;
  const namespaced = [
    ...['deployments', 'statefulsets', 'services', 'secrets', 'configmaps', 'serviceaccounts'],
    ...['roles', 'rolebindings', 'networkpolicies', 'jobs', 'persistentvolumeclaims'],
  ];
  const clusterWide = [
    ...['clusterroles', 'clusterrolebindings', 'customresourcedefinitions'],
    ...['mutatingwebhookconfigurations', 'validatingwebhookconfigurations'],
  ];
  const objects = list(namespaced.join(','), true)
    .filter(
      (o) =>
        NAMESPACES.includes(o.metadata.namespace!) ||
        (o.metadata.namespace === 'kube-public' && o.kind === 'ConfigMap' && o.metadata.name !== 'kube-root-ca.crt'),
    )
    .filter(
      (o) =>
        o.type !== 'helm.sh/release.v1' &&
        o.metadata.name !== 'kube-root-ca.crt' &&
        !(o.kind === 'ServiceAccount' && o.metadata.name === 'default') &&
        // A finished Job with a TTL (Airflow's migration and create-user Jobs: 300 s) is deleted by
        // the TTL controller: whether it is still there depends on the clock, not on koala.
        !(o.kind === 'Job' && o.spec?.ttlSecondsAfterFinished !== undefined),
    )
    .map((o) => `${o.metadata.namespace}/${o.kind}/${o.metadata.name}`)
    .sort();
  const clusterObjects = list(clusterWide.join(','), false)
    .filter((o) => /koala|spark/.test(o.metadata.name))
    .map((o) => `${o.kind}/${o.metadata.name}`)
    .sort();
  const docker = (args: string[]): string[] =>
    execFileSync(world.env.KOALA_DOCKER!, args, { env: world.env, encoding: 'utf8' }).split('\n').filter(Boolean);
  const dockerState = [
    ...docker(['ps', '-a', '--format', '{{.Names}} {{.State}}']).map((l) => `container ${l}`),
    ...docker(['network', 'ls', '--format', '{{.Name}}']).map((l) => `network ${l}`),
    ...docker(['volume', 'ls', '--format', '{{.Name}}']).map((l) => `volume ${l}`),
  ].sort();

  const problems: string[] = [];
  for (const r of helmList)
    if (r.status !== 'deployed') problems.push(`release ${r.namespace}/${r.name} is ${r.status}`);
  // Credentials made by an interrupted run are the ones the cluster keeps: never generated twice.
  const file = path.join(world.env.KOALA_HOME!, 'clusters', world.name, 'credentials.json');
  const stored = (
    JSON.parse(readFileSync(file, 'utf8')) as {
      credentials: { airflow: { password: string }; objectStore: { secretKey: string } };
    }
  ).credentials;
  const secret = (ns: string, name: string, key: string): string =>
    Buffer.from(world.kubectl(['get', 'secret', name, '-n', ns, '-o', `jsonpath={.data.${key}}`]), 'base64').toString();
  if (secret('airflow', 'airflow-admin', 'password') !== stored.airflow.password)
    problems.push('the Airflow admin Secret differs from credentials.json');
  if (secret('spark-jobs', 'object-store-s3', 'AWS_SECRET_ACCESS_KEY') !== stored.objectStore.secretKey)
    problems.push('the job S3 Secret differs from credentials.json');
  return { releases, objects, clusterObjects, docker: dockerState, problems };
}

/** The differences between two end states, as lines ("" when they agree). */
export function difference(expected: EndState, actual: EndState): string {
  const lines: string[] = [...actual.problems];
  for (const key of ['releases', 'objects', 'clusterObjects', 'docker'] as const) {
    const want = new Set(expected[key]);
    const have = new Set(actual[key]);
    for (const item of want) if (!have.has(item)) lines.push(`missing ${key}: ${item}`);
    for (const item of have) if (!want.has(item)) lines.push(`extra ${key}: ${item}`);
  }
  return lines.join('\n');
}

export interface Outcome {
  point: string;
  stopped: string;
  resumed: string;
  converged: boolean;
  detail: string;
}

/** How a stopped run ended: its exit code and what it said of the step. */
export function describeStop(result: KoalaResult, step: string): string {
  const text = result.stdout + result.stderr;
  const line =
    new RegExp(`^\\[${step}\\] (done|already done|FAILED|cancelled|blocked|skipped)[^\\n]*`, 'm').exec(text)?.[0] ?? '';
  return `exit ${result.code ?? result.signal}${line ? `, ${line.replace(/\s*\(.*$/, '')}` : ''}`;
}

/** Ctrl-C as soon as a step starts: its start line shows in the plain output. */
export async function interruptAtStart(world: World, step: string): Promise<KoalaResult> {
  const run = startKoala(world, ['up']);
  await waitForOutput(run.output, new RegExp(`^\\[${step}\\] `, 'm'), 240_000);
  run.child.kill('SIGINT');
  return run.done;
}

export async function up(world: World): Promise<KoalaResult> {
  return koala(world, ['up']);
}

/** A table for the test's output. */
export function table(outcomes: Outcome[]): string {
  const rows = outcomes.map((o) => `| ${o.point} | ${o.stopped} | ${o.resumed} | ${o.converged ? 'yes' : 'NO'} |`);
  return ['| point | stopped run | next run | converged |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

/**
 * Undo one step's work on a converged platform, so the next `koala up` has exactly that step to
 * do (and whatever depends on it): the cheap way to stop a run at every step without building
 * the whole platform again for each. The cluster steps start from nothing (`koala down`).
 */
export async function undoStep(world: PlatformWorld, step: string): Promise<void> {
  const tb = testbed();
  const helm = (release: string, namespace: string): void => {
    execFileSync(
      path.join(tb.binDir, 'helm4'),
      [
        'uninstall',
        release,
        '--namespace',
        namespace,
        '--wait',
        '--kubeconfig',
        world.env.KUBECONFIG!,
        '--kube-context',
        `kind-${world.name}`,
      ],
      { stdio: 'ignore' },
    );
  };
  const docker = (args: string[], input = ''): void =>
    void execFileSync(world.env.KOALA_DOCKER!, args, { env: world.env, input, stdio: ['pipe', 'ignore', 'ignore'] });
  switch (step) {
    case 'cluster':
    case 'nodes-ready': {
      const down = await koala(world, ['down', '--yes']);
      if (down.code !== 0) throw new Error(`down failed: ${down.stderr}`);
      return;
    }
    case 'registry':
      return docker(['rm', '-f', 'koala-registry']);
    case 'registry-network':
      return docker(['network', 'disconnect', 'kind', 'koala-registry']);
    case 'registry-hosts': {
      // A stale hosts.toml on the worker (what a node left from an older registry would hold).
      const file = `/etc/containerd/certs.d/localhost:${world.registryPort}/hosts.toml`;
      return docker(
        ['exec', '-i', `${world.name}-worker`, 'sh', '-c', `cat > '${file}'`],
        '[host."http://elsewhere:5000"]\n',
      );
    }
    case 'registry-hosting':
      return void world.kubectl(['delete', 'configmap', 'local-registry-hosting', '-n', 'kube-public']);
    case 'platform':
      return void world.kubectl(['delete', 'secret', 'airflow-admin', '-n', 'airflow']);
    case 'object-store-buckets':
      return void world.kubectl(['delete', 'jobs', '-n', 'object-store', '-l', 'koala.dev/job=buckets', '--wait']);
    case 'airflow-dags':
      return void world.kubectl(['delete', 'configmap', 'airflow-dags', '-n', 'airflow']);
    default: {
      const releases: Record<string, [string, string]> = {
        'spark-operator': ['spark-operator', 'spark-operator'],
        'object-store': ['minio', 'object-store'],
        'airflow-postgres': ['koala-postgres', 'koala-system'],
        airflow: ['airflow', 'airflow'],
        rbac: ['koala-rbac', 'koala-system'],
        'network-policies': ['koala-network-policies', 'koala-system'],
      };
      const [release, namespace] = releases[step] ?? [];
      if (!release) throw new Error(`no way to undo step ${step}`);
      return helm(release, namespace!);
    }
  }
}

export interface Suite {
  readonly world: PlatformWorld;
  readonly reference: EndState;
  readonly outcomes: Outcome[];
}

/**
 * One file's setup: the chart mirror, a world, and the end state of an uninterrupted `koala up`
 * to compare with; afterwards the table of outcomes under `title`, and everything taken down.
 */
export function useConvergenceSuite(title: string, helm: 'helm3' | 'helm4'): Suite {
  let mirror: ChartMirror | undefined;
  const suite = { outcomes: [] as Outcome[] } as { world: PlatformWorld; reference: EndState; outcomes: Outcome[] };
  beforeAll(async () => {
    mirror = await startChartMirror(path.join(testbed().binDir, 'helm3'));
    suite.world = await platformWorld(mirror, helm);
    const first = await up(suite.world);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    suite.reference = endState(suite.world);
    expect(suite.reference.problems).toEqual([]);
    expect(suite.reference.releases).toHaveLength(7);
  }, 600_000);
  afterAll(async () => {
    console.log(`\n${title}:\n${table(suite.outcomes)}\n`);
    suite.world?.stop();
    if (suite.world) await koala(suite.world, ['down', '--yes']);
    await mirror?.close();
  });
  return suite;
}
