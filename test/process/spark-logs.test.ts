import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { koala, startKoala, waitForOutput } from '../support/cli.ts';
import { criLines, FIXTURES, finishDriver, serveLogs, useSparkOperator, waitForDriver } from '../support/spark.ts';
import { kubectl, testbedKube, useNamespace } from '../support/testbed.ts';
import { jobsWorld } from './jobs-world.ts';

/**
 * `koala logs` and the live part of `koala run` against the real operator: the driver log is
 * followed through a driver the operator resubmits (restartPolicy OnFailure), and executors are
 * reported as they come and go.
 */
const ns = useNamespace('spark-logs');
useSparkOperator(() => [ns.name]);
const logFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'koala-logs-')), 'driver.log');

beforeAll(async () => {
  writeFileSync(logFile, '');
  await serveLogs(await testbedKube(), ns.name, logFile);
});

/** The Python example, renamed, with one retry after a failure. */
function retryingManifest(dir: string, name: string): string {
  const doc = parse(readFileSync(path.join(FIXTURES, 'example-spark-pi-python.yaml'), 'utf8')) as {
    metadata: { name: string };
    spec: Record<string, unknown>;
  };
  doc.metadata.name = name;
  doc.spec.restartPolicy = { type: 'OnFailure', onFailureRetries: 1, onFailureRetryInterval: 1 };
  const file = path.join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(doc));
  return file;
}

describe('koala logs (real Spark operator)', () => {
  it('-f follows the driver log across a driver restart and ends when the run has finished', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    writeFileSync(logFile, criLines(['attempt one: starting', 'attempt one: boom']));
    const submitted = await koala(world, [
      'run',
      '-f',
      retryingManifest(world.project, 'flaky'),
      '-n',
      ns.name,
      '--detach',
    ]);
    expect(submitted.code, submitted.stderr).toBe(0);

    const logs = startKoala(world, ['logs', 'flaky', '-f']);
    await waitForDriver(ns.name, 'flaky-1', 'Running');
    const firstUid = kubectl(['-n', ns.name, 'get', 'pod', 'flaky-1-driver', '-o', 'jsonpath={.metadata.uid}']);
    await waitForOutput(logs.output, /attempt one: boom/);
    await finishDriver(ns.name, 'flaky-1', 'failed', { exitCode: 2 });
    // The operator deletes the failed driver and submits again: a new pod, same name.
    writeFileSync(logFile, criLines(['attempt two: starting', 'attempt two: done']));
    for (let i = 0; i < 240; i++) {
      const uid = kubectl([
        '-n',
        ns.name,
        'get',
        'pods',
        '-l',
        'spark-role=driver,sparkoperator.k8s.io/app-name=flaky-1',
        '-o',
        'jsonpath={.items[*].metadata.uid}',
      ]).trim();
      if (uid && uid !== firstUid) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    await waitForOutput(logs.output, /attempt two: done/, 60_000);
    appendFileSync(logFile, criLines(['attempt two: a line written while following']));
    await waitForOutput(logs.output, /a line written while following/);
    await finishDriver(ns.name, 'flaky-1', 'succeeded');
    const result = await logs.done;
    expect(result.code, result.stderr).toBe(0);
    const first = 'attempt one: starting\nattempt one: boom\n';
    const second = 'attempt two: starting\nattempt two: done\nattempt two: a line written while following';
    expect(result.stdout).toMatch(new RegExp(`${first}[\\s\\S]*${second}`));
    expect(result.stderr).toMatch(/was replaced: following the new pod/);
    expect(
      kubectl([
        '-n',
        ns.name,
        'get',
        'sparkapplication',
        'flaky-1',
        '-o',
        'jsonpath={.status.applicationState.state} {.status.executionAttempts}',
      ]),
    ).toBe('COMPLETED 2');
  });

  it('run streams the driver log and shows executors come and go; logs --executor finds one by its label', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    writeFileSync(logFile, criLines(['Pi is roughly 3.14']));
    const run = startKoala(world, ['run', '-f', path.join(FIXTURES, 'example-spark-pi-python.yaml'), '-n', ns.name]);
    await waitForOutput(run.output, /submitted .*spark-pi-python-1/);
    await waitForDriver(ns.name, 'spark-pi-python-1', 'Running');
    await waitForOutput(run.output, /driver \| Pi is roughly 3\.14/);
    // What Spark's scheduler would create: an executor pod with the operator's labels (kwok runs it).
    const executor = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'pythonpi-5f2a-exec-1',
        namespace: ns.name,
        labels: {
          'sparkoperator.k8s.io/app-name': 'spark-pi-python-1',
          'spark-role': 'executor',
          'spark-exec-id': '1',
        },
      },
      spec: {
        restartPolicy: 'Never',
        containers: [{ name: 'spark-kubernetes-executor', image: 'apache/spark:4.0.4' }],
      },
    };
    kubectl(['apply', '-f', '-'], JSON.stringify(executor));
    await waitForOutput(run.output, /executor pythonpi-5f2a-exec-1: Running/);
    const executorLog = await koala(world, ['logs', 'spark-pi-python-1', '--executor', '1']);
    expect(executorLog.code, executorLog.stderr).toBe(0);
    expect(executorLog.stdout).toMatch(/Pi is roughly 3\.14/);
    kubectl(['-n', ns.name, 'delete', 'pod', 'pythonpi-5f2a-exec-1', '--wait=false']);
    await waitForOutput(run.output, /executor pythonpi-5f2a-exec-1: gone/);
    await finishDriver(ns.name, 'spark-pi-python-1', 'succeeded');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    const missing = await koala(world, ['logs', 'spark-pi-python-1', '--executor', '7']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/has no executor 7 pod/);
  });
});
