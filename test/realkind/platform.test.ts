/**
 * The platform for real, on a real kind cluster made by `koala up`: the Spark operator and MinIO
 * from their upstream charts (served by the chart mirror), running images built here from
 * package registries (scripts/testbed/build-platform-images.sh) that koala.yaml's image
 * overrides point at. The seed's job runs end to end: `koala run pagerank` builds the app's image
 * (the scaffolded Dockerfile, hadoop-aws included), the operator's spark-submit starts a real
 * driver, the driver 3 real executors, and the ranks land in MinIO through s3a, where this test
 * reads them back and checks them against PageRank computed here.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { koala, startKoala, waitForOutput } from '../support/cli.ts';
import { startChartMirror, type ChartMirror } from '../support/chart-mirror.ts';
import { jsonDocument } from '../support/json-documents.ts';
import { env, kubectl, memUsedMiB, down, skipReason, tryKubectl } from './support.ts';
import {
  executorsThatWorked,
  expectRanksInStore,
  platformWorld,
  waitFor,
  type PlatformWorld,
} from './platform-world.ts';
import { batchPipelineOnThePlatform } from './platform-pipelines.ts';
import { publishedServicesOnThePlatform } from './platform-gateway.ts';

if (skipReason) console.warn(skipReason);

const figures: Record<string, number | string> = {};
afterAll(() => console.log(`real-kind platform figures: ${JSON.stringify(figures)}`));

/** kubectl as a persona, through the kubeconfig `koala users kubeconfig` wrote. */
function asPersona(kubeconfig: string, args: string[], input?: string): { ok: boolean; out: string } {
  const r = spawnSync(env().kubectl, ['--kubeconfig', kubeconfig, ...args], {
    encoding: 'utf8',
    ...(input ? { input } : {}),
  });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

describe.skipIf(Boolean(skipReason))('the platform on real kind: Spark with 3 executors and MinIO', () => {
  let world: PlatformWorld;
  let mirror: ChartMirror;

  beforeAll(async () => {
    const helm = path.join(process.env.KOALA_TESTBED_BIN!, 'helm3');
    mirror = await startChartMirror(helm);
  });

  afterAll(async () => {
    if (world) await down(world);
    await mirror?.close();
  });

  it('koala up installs the operator and MinIO from images built here; every component is Ready', async () => {
    figures.memBeforeMiB = memUsedMiB();
    world = await platformWorld({ controlPlanes: 1, workers: 2 }, mirror);
    figures.platformUpSeconds = world.platformUpSeconds;
    figures.upStepSeconds = JSON.stringify(world.upSteps);
    figures.memAtRestMiB = memUsedMiB();

    const status = await koala(world, ['status', '--json']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    const parsed = jsonDocument('status', status.stdout);
    const byId = Object.fromEntries(parsed.components.map((c) => [c.id, c]));
    expect(byId['spark-operator']?.ok, JSON.stringify(byId)).toBe(true);
    expect(byId['object-store']?.ok, JSON.stringify(byId)).toBe(true);
    expect(byId.gateway?.ok, JSON.stringify(byId)).toBe(true);
    // Real pods, passing their readiness probes.
    for (const ns of ['spark-operator', 'object-store', 'gateway']) {
      const pods = kubectl(world, [
        'get',
        'pods',
        '-n',
        ns,
        '-o',
        'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}',
      ]);
      expect(
        pods.split(' ').filter((p) => p && !/^koala-buckets-/.test(p) && !p.endsWith('=True')),
        pods,
      ).toEqual([]);
    }
  });

  it('koala run pagerank: a real driver and 3 executors write the ranks to MinIO through s3a', async () => {
    expect((await koala(world, ['new', 'spark-app', 'pagerank'])).code).toBe(0);
    const t0 = Date.now();
    const running = startKoala(world, ['run', 'pagerank']);
    // While the job runs, `koala port-forward pagerank` serves its Spark UI on the host.
    await waitFor(
      'the driver pod running',
      () => {
        // A run that already ended (a failed build, a refused submit) says why; no timeout.
        if (running.child.exitCode !== null) throw new Error(`koala run ended early:\n${running.output()}`);
        const phase = tryKubectl(world, [
          'get',
          'pod',
          '-n',
          'spark-jobs',
          'pagerank-1-driver',
          '-o',
          'jsonpath={.status.phase}',
        ]).out;
        return phase === 'Running' ? true : undefined;
      },
      600_000,
    );
    const forward = startKoala(world, ['port-forward', 'pagerank']);
    try {
      await waitForOutput(forward.output, /Forwarding http:\/\/127\.0\.0\.1:\d+\//, 120_000);
      const url = /Forwarding (http:\/\/127\.0\.0\.1:\d+\/)/.exec(forward.output())![1]!;
      // The UI comes up a few seconds after the driver's JVM; /jobs/ is its first page.
      const html = await waitFor(
        'the Spark UI',
        async () => {
          const page = await fetch(`${url}jobs/`).then(
            (r) => (r.ok ? r.text() : ''),
            () => '',
          );
          return /Spark Jobs/.test(page) ? page : undefined;
        },
        120_000,
      );
      expect(html).toMatch(/pagerank/);
      figures.sparkUi = 'served while running';
    } finally {
      forward.child.kill('SIGINT');
      await forward.done;
    }
    const run = await running.done;
    figures.runColdSeconds = Math.round((Date.now() - t0) / 1000);
    const out = run.stdout + run.stderr;
    expect(run.code, out).toBe(0);
    expect(out).toMatch(/has rank: \d+\.\d{6}\./);
    figures.memAfterRunMiB = memUsedMiB();

    const app = JSON.parse(
      kubectl(world, ['get', 'sparkapplications', '-n', 'spark-jobs', 'pagerank-1', '-o', 'json']),
    ) as { status: { applicationState: { state: string }; executorState?: Record<string, string> } };
    expect(app.status.applicationState.state).toBe('COMPLETED');
    // 3 executors did the work, by the driver's own account.
    figures.executorsStarted = Object.keys(app.status.executorState ?? {}).length;
    const executors = executorsThatWorked(world, 'pagerank-1-driver');
    figures.executorsRanTasks = executors.ranTasks;
    expect(executors.registered, JSON.stringify(app.status)).toBeGreaterThanOrEqual(3);
    expect(executors.ranTasks, executors.log.slice(-4000)).toBeGreaterThanOrEqual(3);

    // The ranks, read back from MinIO.
    await expectRanksInStore(world, 'read-ranks');

    const logs = await koala(world, ['logs', 'pagerank']);
    expect(logs.code, logs.stdout + logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/has rank:/);
    expect(logs.stdout).toMatch(/ranks written to s3a:\/\/spark-data\/pagerank\/ranks/);
  });

  it('an app that raises in the driver makes koala run fail with the Python traceback', async () => {
    expect((await koala(world, ['new', 'spark-app', 'boom'])).code).toBe(0);
    const main = path.join(world.project, 'spark-applications/boom/pagerank.py');
    writeFileSync(
      main,
      readFileSync(main, 'utf8').replace('def main():', 'def main():\n    raise ValueError("koala-boom: bad input")\n'),
    );
    const run = await koala(world, ['run', 'boom']);
    const out = run.stdout + run.stderr;
    expect(run.code, out).not.toBe(0);
    expect(out).toMatch(/Traceback \(most recent call last\)/);
    expect(out).toMatch(/ValueError: koala-boom: bad input/);
  });

  it('RBAC personas on the real cluster: view reads, edit writes but no RBAC, admin manages Roles', async () => {
    const kubeconfigs: Record<string, string> = {};
    for (const persona of ['view', 'edit', 'admin']) {
      const file = path.join(world.project, `${persona}.kubeconfig`);
      const made = await koala(world, ['users', 'kubeconfig', persona, '-o', file]);
      expect(made.code, made.stdout + made.stderr).toBe(0);
      kubeconfigs[persona] = file;
    }
    const as = (persona: string, args: string[], input?: string) => asPersona(kubeconfigs[persona]!, args, input);
    const sparkApp = JSON.stringify({
      apiVersion: 'sparkoperator.k8s.io/v1beta2',
      kind: 'SparkApplication',
      metadata: { name: 'rbac-probe', namespace: 'spark-jobs' },
      spec: {
        type: 'Python',
        sparkVersion: '4.0.4',
        mainApplicationFile: 'local:///app/pagerank.py',
        driver: {},
        executor: {},
      },
    });
    const role = JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'rbac-probe', namespace: 'spark-jobs' },
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }],
    });
    const create = ['create', '--dry-run=server', '-f', '-'];
    const measured = {
      viewLists: as('view', ['get', 'sparkapplications', '-n', 'spark-jobs']),
      viewCreates: as('view', create, sparkApp),
      editCreates: as('edit', create, sparkApp),
      editCreatesRole: as('edit', create, role),
      adminCreatesRole: as('admin', ['create', '-f', '-'], role),
      adminDeletesRole: as('admin', ['delete', 'role', 'rbac-probe', '-n', 'spark-jobs']),
    };
    figures.rbac = JSON.stringify(Object.fromEntries(Object.entries(measured).map(([k, v]) => [k, v.ok])));
    expect(measured.viewLists.ok, measured.viewLists.out).toBe(true);
    expect(measured.viewLists.out).toMatch(/pagerank-1/);
    expect(measured.viewCreates.ok).toBe(false);
    expect(measured.viewCreates.out).toMatch(/forbidden/i);
    expect(measured.editCreates.ok, measured.editCreates.out).toBe(true);
    expect(measured.editCreatesRole.ok).toBe(false);
    expect(measured.editCreatesRole.out).toMatch(/forbidden/i);
    expect(measured.adminCreatesRole.ok, measured.adminCreatesRole.out).toBe(true);
    expect(measured.adminDeletesRole.ok, measured.adminDeletesRole.out).toBe(true);
  });

  it('NetworkPolicies drop and pass real packets as the allow matrix says', async () => {
    // A probe pod in a job namespace, in the object store's namespace and in a namespace the
    // platform does not know; each tries TCP connections to real services. The Spark image
    // serves as a toolbox: bash opens the connections, Python listens.
    kubectl(world, ['create', 'namespace', 'stranger']);
    const probe = (namespace: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'probe', namespace, labels: { app: 'probe' } },
      spec: { containers: [{ name: 'c', image: world.images.spark, command: ['sleep', '3600'] }] },
    });
    const listener = (namespace: string) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'listener', namespace, labels: { app: 'listener' } },
      spec: {
        containers: [
          {
            name: 'c',
            image: world.images.spark,
            command: ['python3', '-m', 'http.server', '8080', '--directory', '/tmp'],
          },
        ],
      },
    });
    for (const ns of ['spark-jobs', 'object-store', 'stranger'])
      kubectl(world, ['apply', '-f', '-'], JSON.stringify(probe(ns)));
    for (const ns of ['spark-jobs', 'stranger']) kubectl(world, ['apply', '-f', '-'], JSON.stringify(listener(ns)));
    for (const ns of ['spark-jobs', 'object-store', 'stranger'])
      kubectl(world, [
        'wait',
        '-n',
        ns,
        '--for=condition=Ready',
        'pod',
        '-l',
        'app in (probe,listener)',
        '--timeout=180s',
      ]);
    const ip = (ns: string, pod: string) =>
      kubectl(world, ['get', 'pod', '-n', ns, pod, '-o', 'jsonpath={.status.podIP}']);
    const minio = 'minio.object-store.svc.cluster.local';
    // A TCP connection from the probe: connected (0), refused (1) or dropped (124, no answer in 4 s).
    const connects = (fromNs: string, host: string, port: number): boolean =>
      tryKubectl(world, [
        'exec',
        '-n',
        fromNs,
        'probe',
        '--',
        'timeout',
        '4',
        'bash',
        '-c',
        `exec 3<>/dev/tcp/${host}/${port}`,
      ]).ok;
    const ports = JSON.parse(kubectl(world, ['get', 'svc', '-n', 'object-store', 'minio', '-o', 'json'])) as {
      spec: { ports: Array<{ port: number }> };
    };
    expect(ports.spec.ports.map((p) => p.port)).toContain(9000);
    const rows: Array<{ rule: string; from: string; to: string; expected: boolean; measured: boolean }> = [];
    const row = (rule: string, from: string, to: string, expected: boolean, measured: boolean) =>
      rows.push({ rule, from, to, expected, measured });
    row(
      'dns',
      'spark-jobs',
      'kube-dns:53',
      true,
      tryKubectl(world, ['exec', '-n', 'spark-jobs', 'probe', '--', 'getent', 'hosts', minio]).ok,
    );
    row('jobs-to-object-store', 'spark-jobs', 'minio:9000', true, connects('spark-jobs', minio, 9000));
    row(
      'spark-internal',
      'spark-jobs',
      'spark-jobs pod:8080',
      true,
      connects('spark-jobs', ip('spark-jobs', 'listener'), 8080),
    );
    row('object-store-internal', 'object-store', 'minio:9000', true, connects('object-store', minio, 9000));
    const objectStorePort = Number(
      /objectStore: (\d+)/.exec(readFileSync(path.join(world.project, 'koala.yaml'), 'utf8'))![1],
    );
    const health = await fetch(`http://127.0.0.1:${objectStorePort}/minio/health/live`).then(
      (r) => r.status,
      () => 0,
    );
    row('host-to-object-store', 'host 127.0.0.1', 'minio:9000 (NodePort)', true, health === 200);
    // Denied: everything the matrix does not list.
    row('(none)', 'stranger', 'minio:9000', false, connects('stranger', minio, 9000));
    const console9001 = 'minio-console.object-store.svc.cluster.local';
    row('(none)', 'spark-jobs', 'minio-console:9001', false, connects('spark-jobs', console9001, 9001));
    row(
      'object-store-internal',
      'object-store',
      'minio-console:9001',
      true,
      connects('object-store', console9001, 9001),
    );
    row(
      '(none)',
      'spark-jobs',
      'stranger pod:8080 (egress)',
      false,
      connects('spark-jobs', ip('stranger', 'listener'), 8080),
    );
    row(
      '(none)',
      'object-store',
      'spark-jobs pod:8080',
      false,
      connects('object-store', ip('spark-jobs', 'listener'), 8080),
    );
    row('(none)', 'stranger', 'spark-jobs pod:8080', false, connects('stranger', ip('spark-jobs', 'listener'), 8080));
    // Traffic that no policy governs still flows: the stranger reaches its own namespace.
    row(
      '(not isolated)',
      'stranger',
      'stranger pod:8080',
      true,
      connects('stranger', ip('stranger', 'listener'), 8080),
    );
    console.log(
      ['| rule | from | to | expected | measured |', '| --- | --- | --- | --- | --- |']
        .concat(
          rows.map(
            (r) =>
              `| ${r.rule} | ${r.from} | ${r.to} | ${r.expected ? 'allow' : 'deny'} ` +
              `| ${r.measured ? 'connected' : 'refused/dropped'} |`,
          ),
        )
        .join('\n'),
    );
    expect(rows.filter((r) => r.expected !== r.measured)).toEqual([]);
  });

  it('published services answer through the gateway on the host: the group signs in, bypass_auth is open', async () => {
    await publishedServicesOnThePlatform(world, figures);
  }, 600_000);

  it('a batch pipeline: a step that fails once passes on its retry alone; after the expiry, the gate', async () => {
    await batchPipelineOnThePlatform(world, figures);
  }, 600_000);
});
