/**
 * The real Spark operator (kubeflow/spark-operator v2.5.2, built from its Go module by
 * scripts/testbed/build-spark-operator.sh) running as a process against the test bed, with
 * spark-submit from the pyspark package (scripts/testbed/pyspark.sh) and the machine's Java.
 * kwok plays the kubelet: drivers become Running; a test finishes them with finishDriver().
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { parse, stringify } from 'yaml';
import type { Kube } from '../../src/kube/client.ts';
import { REPO, kubectl, testbed, testbedKube } from './testbed.ts';
import { sparkOperatorFixtures } from './fixtures.ts';

export const SPARK_SA = 'spark-operator-spark';
export const FIXTURES = sparkOperatorFixtures();

function script(name: string, arg?: string): string {
  return execFileSync('bash', [path.join(REPO, 'scripts/testbed', name), ...(arg ? [arg] : [])], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15 * 60_000,
  }).trim();
}

/** Build (or reuse) the operator and pyspark; apply the operator's CRDs. Idempotent. */
export function ensureSparkOperatorBuilt(): { bin: string; sparkHome: string; crds: string } {
  script('build-spark-operator.sh');
  script('pyspark.sh');
  const crds = script('build-spark-operator.sh', '--print-crds');
  kubectl(['apply', '--server-side', '--force-conflicts', '-f', crds]);
  return {
    bin: script('build-spark-operator.sh', '--print-bin'),
    sparkHome: script('pyspark.sh', '--print-home'),
    crds,
  };
}

/** The operator's informers fail to start until every one of its CRDs is Established. */
async function waitForCrds(kube: Kube): Promise<void> {
  const names = ['sparkapplications', 'scheduledsparkapplications', 'sparkconnects'].map(
    (n) => `${n}.sparkoperator.k8s.io`,
  );
  for (let i = 0; i < 300; i++) {
    const crds = await Promise.all(
      names.map((name) =>
        kube.get<{
          apiVersion: string;
          kind: string;
          status?: { conditions?: Array<{ type: string; status: string }> };
        }>({ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name } }),
      ),
    );
    if (crds.every((c) => c?.status?.conditions?.some((x) => x.type === 'Established' && x.status === 'True'))) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('the Spark operator CRDs did not become Established');
}

export interface OperatorHandle {
  readonly log: () => string;
  readonly process: () => ChildProcess | undefined;
}

/**
 * Start the operator for the tests of one file, watching only `namespaces` (so files do not
 * see each other's runs), with the chart's driver ServiceAccount in each. Stopped by PID after.
 */
export function useSparkOperator(namespaces: () => string[]): OperatorHandle {
  let child: ChildProcess | undefined;
  let logFile = '';
  beforeAll(async () => {
    const { bin, sparkHome } = ensureSparkOperatorBuilt();
    const kube = await testbedKube();
    await waitForCrds(kube);
    for (const ns of namespaces())
      await kube.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: SPARK_SA, namespace: ns } });
    const server = new URL(kube.kc.getCurrentCluster()!.server);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-operator-'));
    logFile = path.join(dir, 'operator.log');
    const fd = openSync(logFile, 'a');
    child = spawn(
      bin,
      [
        'controller',
        'start',
        `--namespaces=${namespaces().join(',')}`,
        '--leader-election=false',
        '--health-probe-bind-address=0',
        '--metrics-bind-address=0',
        '--enable-ui-service=true',
        '--controller-threads=4',
      ],
      {
        env: {
          ...process.env,
          KUBECONFIG: testbed().kubeconfig,
          SPARK_HOME: sparkHome,
          // spark-submit's --master comes from these, as it would in a pod.
          KUBERNETES_SERVICE_HOST: server.hostname,
          KUBERNETES_SERVICE_PORT: server.port,
          // The JVM's own start-up dominates; keep it lean on two cores.
          SPARK_SUBMIT_OPTS: '-XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto',
        },
        stdio: ['ignore', fd, fd],
      },
    );
    closeSync(fd);
    const deadline = Date.now() + 60_000;
    while (!/Starting workers.*"controller":"sparkapplication"/.test(readFileSync(logFile, 'utf8'))) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`the Spark operator did not start:\n${readFileSync(logFile, 'utf8').slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 15 * 60_000);
  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
  return { log: () => (logFile ? readFileSync(logFile, 'utf8') : ''), process: () => child };
}

/** Serve `file` as the log of every pod in `namespace` (kwok ClusterLogs, follow mode). */
export function serveLogs(kube: Kube, namespace: string, file: string): Promise<unknown> {
  return kube.apply({
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterLogs',
    metadata: { name: `koala-test-${namespace}` },
    spec: {
      selector: { matchNamespaces: [namespace] },
      logs: [{ containers: ['spark-kubernetes-driver', 'spark-kubernetes-executor'], logsFile: file, follow: true }],
    },
  });
}

/** Wait for the driver of a run to be Running, then let kwok finish it (koala-pod-complete stages). */
export async function finishDriver(
  namespace: string,
  run: string,
  outcome: 'succeeded' | 'failed',
  options: { exitCode?: number; timeoutMs?: number } = {},
): Promise<string> {
  const pod = await waitForDriver(namespace, run, 'Running', options.timeoutMs);
  if (options.exitCode !== undefined)
    kubectl(['-n', namespace, 'annotate', '--overwrite', 'pod', pod, `koala.test/exit-code=${options.exitCode}`]);
  kubectl(['-n', namespace, 'label', '--overwrite', 'pod', pod, `koala.test/complete=${outcome}`]);
  return pod;
}

export async function waitForDriver(
  namespace: string,
  run: string,
  phase: string,
  timeoutMs = 90_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const out = kubectl([
      '-n',
      namespace,
      'get',
      'pods',
      '-l',
      `sparkoperator.k8s.io/app-name=${run},spark-role=driver`,
      '-o',
      'jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.metadata.uid}{"\\n"}{end}',
    ]).trim();
    const line = out.split('\n').find((l) => l.split(' ')[1] === phase);
    if (line) return line.split(' ')[0]!;
    if (Date.now() > deadline)
      throw new Error(`driver of ${namespace}/${run} not ${phase} after ${timeoutMs}ms (pods: ${out || 'none'})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A kubeconfig whose context is named as koala expects for cluster `name` (kind-<name>). */
export function kubeconfigFor(name: string, target: string): void {
  const config = parse(readFileSync(testbed().kubeconfig, 'utf8')) as {
    contexts: Array<{ name: string }>;
    'current-context': string;
  };
  for (const c of config.contexts) if (c.name === testbed().context) c.name = `kind-${name}`;
  config['current-context'] = `kind-${name}`;
  writeFileSync(target, stringify(config), { mode: 0o600 });
}

/** Log lines as the kubelet stores them (CRI format), which is what kwok's Logs serve. */
export function criLines(lines: string[], start = Date.now()): string {
  return lines
    .map((line, i) => `${new Date(start + i).toISOString().replace('Z', '000000Z')} stdout F ${line}\n`)
    .join('');
}
