/**
 * Airflow for real, on a real kind cluster made by `koala up`: the official chart (served by the
 * chart mirror) runs Airflow and koala's Postgres from images built here from PyPI and Debian
 * (scripts/testbed/build-airflow-images.sh), beside the Spark operator and MinIO. The DAG that
 * `koala new spark-app` writes is published by `koala dags sync`, parsed by Airflow's own
 * dag-processor, and a run triggered through Airflow's REST API submits the app through the
 * in-cluster connection; the ranks land in MinIO. A DAG written for Airflow 2 is reported, with
 * its file and Airflow's error, by `koala dags sync` and `koala status`.
 *
 * Opt-in (KOALA_TEST_PLATFORM_FULL=1, test/realkind/README.md): about 15 minutes on two cores.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { koala } from '../support/cli.ts';
import { startChartMirror, type ChartMirror } from '../support/chart-mirror.ts';
import { jsonDocument } from '../support/json-documents.ts';
import { down, kubectl, memUsedMiB, skipReason, tryKubectl } from './support.ts';
import {
  executorsThatWorked,
  expectRanksInStore,
  platformWorld,
  waitFor,
  type PlatformWorld,
} from './platform-world.ts';

if (skipReason) console.warn(skipReason);

const figures: Record<string, number | string> = {};
afterAll(() => console.log(`real-kind Airflow figures: ${JSON.stringify(figures)}`));

const LEGACY_DAG = [
  'from datetime import timedelta',
  'from airflow import DAG',
  'from airflow.utils.dates import days_ago',
  'with DAG("legacy", schedule_interval=timedelta(days=1), start_date=days_ago(1)):',
  '    pass',
  '',
].join('\n');

describe.skipIf(Boolean(skipReason))('Airflow on real kind: DAGs parsed, a run that submits Spark', () => {
  let world: PlatformWorld;
  let mirror: ChartMirror;
  let base = '';
  let admin = { username: '', password: '' };

  /** Airflow's REST API on the host port kind maps, as the admin user. */
  async function api<T>(method: string, route: string, body?: unknown): Promise<T> {
    const token = await signIn(admin.username, admin.password);
    const response = await fetch(`${base}${route}`, {
      method,
      headers: { Authorization: `Bearer ${token.token}`, 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    expect(response.ok, `${method} ${route}: ${response.status} ${text}`).toBe(true);
    return JSON.parse(text) as T;
  }

  async function signIn(username: string, password: string): Promise<{ status: number; token: string }> {
    const response = await fetch(`${base}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    const text = await response.text();
    return {
      status: response.status,
      token: response.ok ? (JSON.parse(text) as { access_token: string }).access_token : '',
    };
  }

  beforeAll(async () => {
    const helm = path.join(process.env.KOALA_TESTBED_BIN!, 'helm3');
    mirror = await startChartMirror(helm);
  });

  afterAll(async () => {
    if (world) await down(world);
    await mirror?.close();
  });

  it('koala up installs Airflow and its Postgres from images built here; koala status is healthy', async () => {
    figures.memBeforeMiB = memUsedMiB();
    world = await platformWorld({ controlPlanes: 1, workers: 2 }, mirror, { airflow: true });
    figures.platformUpSeconds = world.platformUpSeconds;
    figures.upStepSeconds = JSON.stringify(world.upSteps);
    figures.memAtRestMiB = memUsedMiB();
    // `koala up` waits for Airflow's Deployments, not for the Job that creates the admin user.
    await waitFor(
      'the admin user Job',
      () => {
        const job = tryKubectl(world, ['get', 'job', '-n', 'airflow', 'airflow-create-user', '-o', 'json']);
        if (!job.ok) return true; // finished and removed by its TTL
        return (JSON.parse(job.out) as { status?: { succeeded?: number } }).status?.succeeded ? true : undefined;
      },
      300_000,
    );
    const port = /^\s+airflow: (\d+)$/m.exec(readFileSync(path.join(world.project, 'koala.yaml'), 'utf8'))![1];
    base = `http://127.0.0.1:${port}`;

    const status = await koala(world, ['status', '--json']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    const airflow = jsonDocument('status', status.stdout).components.find((c) => c.id === 'airflow');
    expect(airflow?.ok, JSON.stringify(airflow)).toBe(true);
    // The DAG import check reached Airflow's API.
    expect(airflow?.detail).not.toMatch(/not checked/);
  });

  it('the admin signs in with the password from koala credentials; a wrong one is refused', async () => {
    const credentials = jsonDocument('credentials', (await koala(world, ['credentials', '--json'])).stdout);
    admin = credentials.credentials.airflow;
    expect((await signIn(admin.username, admin.password)).status).toBe(201);
    expect((await signIn(admin.username, `${admin.password}x`)).status).toBe(401);
    // The UI is served too.
    const ui = await fetch(`${base}/`);
    expect(ui.status).toBe(200);
  });

  it("koala dags sync publishes the app's DAG and Airflow parses it with no import error", async () => {
    expect((await koala(world, ['new', 'spark-app', 'pagerank'])).code).toBe(0);
    expect(existsSync(path.join(world.project, 'dags/pagerank.py'))).toBe(true);
    const t0 = Date.now();
    const sync = await koala(world, ['dags', 'sync', '--json']);
    figures.dagsSyncSeconds = Math.round((Date.now() - t0) / 1000);
    expect(sync.code, sync.stdout + sync.stderr).toBe(0);
    const doc = jsonDocument('dags sync', sync.stdout);
    expect(doc.parse?.files, sync.stdout).toEqual([{ file: 'pagerank.py', dags: ['pagerank'] }]);
    expect(doc.apps.map((a) => path.basename(a.file))).toEqual(['pagerank.sparkapplication.yaml']);
  });

  it('a DAG run triggered through the REST API submits the app through the in-cluster connection', async () => {
    await api('PATCH', '/api/v2/dags/pagerank', { is_paused: false });
    const t0 = Date.now();
    const run = await api<{ dag_run_id: string }>('POST', '/api/v2/dags/pagerank/dagRuns', { logical_date: null });
    const state = await waitFor(
      'the DAG run to end',
      async () => {
        const { state } = await api<{ state: string }>(
          'GET',
          `/api/v2/dags/pagerank/dagRuns/${encodeURIComponent(run.dag_run_id)}`,
        );
        return ['success', 'failed'].includes(state) ? state : undefined;
      },
      600_000,
    );
    figures.dagRunSeconds = Math.round((Date.now() - t0) / 1000);
    const tasks = await api<{ task_instances: { task_id: string; state: string }[] }>(
      'GET',
      `/api/v2/dags/pagerank/dagRuns/${encodeURIComponent(run.dag_run_id)}/taskInstances`,
    );
    if (state !== 'success') {
      // What the task said, and the SparkApplication it submitted.
      const token = (await signIn(admin.username, admin.password)).token;
      const runPath = `/api/v2/dags/pagerank/dagRuns/${encodeURIComponent(run.dag_run_id)}`;
      const route = `${runPath}/taskInstances/run_pagerank/logs/1`;
      const log = await fetch(`${base}${route}?full_content=true`, {
        headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' },
      }).then((r) => r.text());
      const apps = tryKubectl(world, ['get', 'sparkapplications', '-n', 'spark-jobs', '-o', 'yaml']).out;
      // Restarts and their reasons (OOMKilled, a failed probe) of the pods a task depends on.
      const restarts = tryKubectl(world, [
        'get',
        'pods',
        '-n',
        'airflow',
        '-o',
        'custom-columns=POD:.metadata.name,RESTARTS:.status.containerStatuses[*].restartCount,' +
          'LAST:.status.containerStatuses[*].lastState.terminated.reason',
      ]).out;
      const events = tryKubectl(world, ['get', 'events', '-n', 'airflow', '--field-selector', 'type=Warning']).out;
      expect.fail(
        [
          `the DAG run ${state}: ${JSON.stringify(tasks)}`,
          `--- task log\n${log.slice(-6000)}`,
          `--- airflow pods\n${restarts}`,
          `--- warnings\n${events.slice(-3000)}`,
          `--- ${apps.slice(-3000)}`,
        ].join('\n'),
      );
    }

    // The SparkApplication Airflow submitted: the one `koala run` renders, run to completion.
    const apps = JSON.parse(
      kubectl(world, [
        'get',
        'sparkapplications',
        '-n',
        'spark-jobs',
        '-l',
        'koala.dev/launched-by=airflow',
        '-o',
        'json',
      ]),
    ) as {
      items: {
        metadata: { name: string };
        status?: { applicationState?: { state?: string }; driverInfo?: { podName?: string } };
      }[];
    };
    expect(apps.items).toHaveLength(1);
    const submitted = apps.items[0]!;
    expect(submitted.status?.applicationState?.state, JSON.stringify(submitted.status)).toBe('COMPLETED');
    const executors = executorsThatWorked(world, submitted.status!.driverInfo!.podName!);
    expect(executors.registered, executors.log.slice(-3000)).toBeGreaterThanOrEqual(3);

    await expectRanksInStore(world, 'read-ranks-airflow');
    figures.memDuringJobMiB = memUsedMiB();
  });

  it('a DAG written for Airflow 2 is reported by dags sync and status with its file and error', async () => {
    const legacy = path.join(world.project, 'dags/legacy.py');
    writeFileSync(legacy, LEGACY_DAG);
    const sync = await koala(world, ['dags', 'sync']);
    const out = sync.stdout + sync.stderr;
    expect(sync.code, out).toBe(1);
    expect(out).toMatch(/dags\/legacy\.py: import error: .*(days_ago|airflow\.utils\.dates)/);
    expect(out).toMatch(/dags\/pagerank\.py: DAGs pagerank/);
    expect(out).toMatch(/AIR3/);

    const status = await koala(world, ['status']);
    expect(status.code, status.stdout + status.stderr).toBe(1);
    expect(status.stdout).toMatch(/airflow: dags\/legacy\.py: .*(days_ago|airflow\.utils\.dates)/);

    // Fixed (removed), everything is healthy again.
    rmSync(legacy);
    const again = await koala(world, ['dags', 'sync']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    await waitFor(
      'koala status healthy again',
      async () => ((await koala(world, ['status'])).code === 0 ? true : undefined),
      180_000,
    );
  });
});
