import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { koala, startKoala, waitForOutput } from '../support/cli.ts';
import { criLines, FIXTURES, finishDriver, serveLogs, useSparkOperator, waitForDriver } from '../support/spark.ts';
import { kubectl, testbedKube, useNamespace } from '../support/testbed.ts';
import { jobsWorld } from './jobs-world.ts';
import { jsonDocument } from '../support/json-documents.ts';

/**
 * `koala run -f` and `koala apps …` against the real Spark operator on the test bed: the
 * operator runs spark-submit, which creates the driver pod; kwok runs it and, when the test
 * says so, completes or fails it; the operator moves the SparkApplication to COMPLETED/FAILED.
 */
const ns = useNamespace('spark-run');
const other = useNamespace('spark-unwatched');
useSparkOperator(() => [ns.name]);
const logDir = mkdtempSync(path.join(os.tmpdir(), 'koala-driver-log-'));
const driverLog = path.join(logDir, 'driver.log');

beforeAll(async () => {
  writeFileSync(
    driverLog,
    criLines(['Spark Command: /opt/java/bin/java ...', 'Pi is roughly 3.1418557', 'Successfully stopped SparkContext']),
  );
  await serveLogs(await testbedKube(), ns.name, driverLog);
});

describe('koala run -f (real Spark operator, real API server)', () => {
  it("runs the operator's Python example to COMPLETED, streaming the driver log, and exits 0", async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    const run = startKoala(world, ['run', '-f', path.join(FIXTURES, 'example-spark-pi-python.yaml'), '-n', ns.name]);
    await waitForOutput(run.output, /submitted .*spark-pi-python-1/);
    await finishDriver(ns.name, 'spark-pi-python-1', 'succeeded');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout + result.stderr;
    expect(out).toMatch(/SUBMITTED[\s\S]*RUNNING[\s\S]*COMPLETED/);
    expect(out).toMatch(/driver spark-pi-python-1-driver: Running/);
    expect(out).toMatch(/driver \| Pi is roughly 3\.1418557/);
    expect(
      kubectl([
        '-n',
        ns.name,
        'get',
        'sparkapplication',
        'spark-pi-python-1',
        '-o',
        'jsonpath={.status.applicationState.state} {.metadata.labels.koala\\.dev/app}',
      ]),
    ).toBe('COMPLETED spark-pi-python');
  });

  it('a FAILED run exits 1 with the error message and the driver log tail', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    const run = startKoala(world, ['run', '-f', path.join(FIXTURES, 'example-spark-pi.yaml'), '-n', ns.name]);
    await waitForOutput(run.output, /submitted .*spark-pi-1/);
    await finishDriver(ns.name, 'spark-pi-1', 'failed', { exitCode: 3 });
    const result = await run.done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Error: spark-pi-1 FAILED: .*(exit|code|3)/i);
    expect(result.stderr).toMatch(/Last lines of the driver log:\n[\s\S]*Pi is roughly/);
    expect(result.stderr).toMatch(/→ `koala apps events spark-pi-1`/);
  });

  it('each run gets a new name; --detach returns at once; apps list/status/events/delete --json', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    const submitted = await koala(world, [
      'run',
      '-f',
      path.join(FIXTURES, 'example-spark-pi-python.yaml'),
      '-n',
      ns.name,
      '--detach',
      '--json',
    ]);
    expect(submitted.code, submitted.stderr).toBe(0);
    const doc = jsonDocument('run', submitted.stdout);
    expect(doc).toMatchObject({ run: 'spark-pi-python-2', state: 'SUBMITTED', detached: true });

    await waitForDriver(ns.name, 'spark-pi-python-2', 'Running');
    const list = jsonDocument(
      'apps list',
      (await koala(world, ['apps', 'list', '--json', '--app', 'spark-pi-python'])).stdout,
    );
    expect(list.runs.map((r) => r.name)).toEqual(['spark-pi-python-2', 'spark-pi-python-1']);
    expect(list.runs[0]).toMatchObject({ state: 'RUNNING', driverPod: 'spark-pi-python-2-driver' });
    expect(list.runs[1]).toMatchObject({ state: 'COMPLETED' });

    const status = await koala(world, ['apps', 'status', 'spark-pi-python', '--json']);
    expect(jsonDocument('apps status', status.stdout)).toMatchObject({
      name: 'spark-pi-python-2',
      state: 'RUNNING',
      uiService: 'spark-pi-python-2-ui-svc',
      pods: [{ name: 'spark-pi-python-2-driver', role: 'driver', phase: 'Running' }],
    });

    const events = jsonDocument(
      'apps events',
      (await koala(world, ['apps', 'events', 'spark-pi-python-2', '--json'])).stdout,
    );
    expect(events.events.map((e) => e.reason)).toEqual(
      expect.arrayContaining(['SparkApplicationSubmitted', 'SparkDriverRunning']),
    );

    const plain = await koala(world, ['apps', 'list']);
    expect(plain.stdout).toMatch(/RUN\s+APP\s+STATE\s+AGE\s+DURATION\s+DRIVER/);
    expect(plain.stdout).toMatch(/spark-pi-python-2\s+spark-pi-python\s+RUNNING/);

    const deleted = await koala(world, ['apps', 'delete', 'spark-pi-python-2', '--json']);
    expect(jsonDocument('apps delete', deleted.stdout)).toMatchObject({
      ok: true,
      deleted: [`${ns.name}/spark-pi-python-2`],
    });
    expect(kubectl(['-n', ns.name, 'get', 'sparkapplications', '-o', 'name'])).not.toMatch(/spark-pi-python-2/);
  });

  it('Ctrl-C while following leaves the run going (no terminal to ask) and exits 130', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    const run = startKoala(world, ['run', '-f', path.join(FIXTURES, 'example-spark-pi-python.yaml'), '-n', ns.name]);
    await waitForOutput(run.output, /submitted .*spark-pi-python-(\d+)/);
    const name = /submitted \S+\/(spark-pi-python-\d+)/.exec(run.output())![1]!;
    // kwok runs the driver at once, before the operator has even recorded SUBMITTED.
    await waitForOutput(run.output, /\] RUNNING/);
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stdout + result.stderr).toMatch(
      new RegExp(
        `${name} keeps running: \`koala logs ${name} -f\` follows it again, \`koala apps delete ${name}\` stops it`,
      ),
    );
    expect(
      kubectl(['-n', ns.name, 'get', 'sparkapplication', name, '-o', 'jsonpath={.status.applicationState.state}']),
    ).toBe('RUNNING');
    await finishDriver(ns.name, name, 'succeeded');
  });

  it('a pagerank.yml naming an absent ServiceAccount is refused with the fix, and runs with it', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    // A manifest written for a Spark operator installed as release "spark": its chart named the
    // driver's ServiceAccount spark-spark.
    const manifest = [
      'apiVersion: "sparkoperator.k8s.io/v1beta2"',
      'kind: SparkApplication',
      'metadata:',
      '  name: pyspark-pagerank',
      `  namespace: ${ns.name}`,
      'spec:',
      '  type: Python',
      '  pythonVersion: "3"',
      '  mode: cluster',
      '  image: "example/pagerank:latest"',
      '  imagePullPolicy: Always',
      '  mainApplicationFile: local:///app/pagerank.py',
      '  sparkVersion: "3.0.0"',
      '  restartPolicy: {type: OnFailure, onFailureRetries: 3, onFailureRetryInterval: 10}',
      '  driver: {cores: 1, coreLimit: "1200m", memory: "512m", serviceAccount: spark-spark, envVars: {RANK_TOP: "5"}}',
      '  executor: {cores: 1, instances: 3, memory: "512m"}',
      '',
    ].join('\n');
    writeFileSync(path.join(world.project, 'pagerank.yml'), manifest);
    const refused = await koala(world, ['run', '-f', 'pagerank.yml']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/ServiceAccount "spark-spark" does not exist/);
    expect(refused.stderr).toMatch(/--service-account spark-operator-spark/);
    const run = startKoala(world, ['run', '-f', 'pagerank.yml', '--service-account', 'spark-operator-spark']);
    await waitForOutput(run.output, /submitted .*pyspark-pagerank-1/);
    await finishDriver(ns.name, 'pyspark-pagerank-1', 'succeeded');
    expect((await run.done).code).toBe(0);
  });

  it('keeps finished runs up to --keep-runs, deleting older ones when a new run starts', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    writeFileSync(
      path.join(world.project, 'keep.yaml'),
      readFileSync(path.join(FIXTURES, 'example-spark-pi-python.yaml'), 'utf8').replace(
        'name: spark-pi-python',
        'name: keep',
      ),
    );
    for (const n of [1, 2]) {
      const run = startKoala(world, ['run', '-f', 'keep.yaml', '-n', ns.name, '--keep-runs', '1']);
      await waitForOutput(run.output, new RegExp(`submitted .*keep-${n}`));
      await finishDriver(ns.name, `keep-${n}`, 'succeeded');
      expect((await run.done).code).toBe(0);
    }
    const third = await koala(world, [
      'run',
      '-f',
      'keep.yaml',
      '-n',
      ns.name,
      '--keep-runs',
      '1',
      '--detach',
      '--json',
    ]);
    expect(jsonDocument('run', third.stdout)).toMatchObject({ run: 'keep-3', pruned: ['keep-1'] });
    expect(
      kubectl([
        '-n',
        ns.name,
        'get',
        'sparkapplications',
        '-l',
        'koala.dev/app=keep',
        '-o',
        'jsonpath={.items[*].metadata.name}',
      ])
        .split(' ')
        .sort(),
    ).toEqual(['keep-2', 'keep-3']);
    await finishDriver(ns.name, 'keep-3', 'succeeded');
  });

  it('a namespace the operator does not watch is an error before anything is created (exit 2)', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    const result = await koala(world, [
      'run',
      '-f',
      path.join(FIXTURES, 'example-spark-pi-python.yaml'),
      '-n',
      other.name,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`does not watch namespace "${other.name}"`));
    expect(result.stderr).toMatch(/→ .*--namespace/);
    expect(kubectl(['-n', other.name, 'get', 'sparkapplications', '-o', 'name']).trim()).toBe('');
  });

  // Refused before the cluster is asked.
  it('a manifest the CRD schema rejects is refused locally, naming file, line and field (exit 2)', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    const bad = path.join(world.project, 'bad.yaml');
    writeFileSync(
      bad,
      [
        'apiVersion: sparkoperator.k8s.io/v1beta2',
        'kind: SparkApplication',
        'metadata: {name: broken}',
        'spec:',
        '  type: Pyton',
        '  sparkVersion: 4.0.4',
        '  mainApplicationFile: local:///x.py',
        '  driver: {cores: 1, serviceAccount: spark-operator-spark}',
        '  executor: {instances: 0}',
        '',
      ].join('\n'),
    );
    const result = await koala(world, ['run', '-f', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${bad}:5: spec.type: Unsupported value: "Pyton"`);
    expect(result.stderr).toContain(`${bad}:9: spec.executor.instances: Invalid value: 0`);
    expect(kubectl(['-n', ns.name, 'get', 'sparkapplications', '-o', 'name'])).not.toMatch(/broken/);
  });
});
