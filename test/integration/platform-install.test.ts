/**
 * `koala up`'s component steps against the real control plane of the test bed, through a chart
 * mirror on 127.0.0.1, with Helm 3 and with Helm 4: everything installs and becomes ready; a
 * second run makes no install; one component can be retried alone, from the chart cache with
 * the mirror gone; `status` reports each component; and no credential shows up in any output,
 * log line, --verbose command or helm argument list.
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1CustomResourceDefinition, V1Deployment, V1NetworkPolicy, V1Secret } from '@kubernetes/client-node';
import { COMPONENTS } from '../../src/components/all.ts';
import { SPARK_CRDS, SPARK_SERVICE_ACCOUNT, sparkJobSettings } from '../../src/components/spark-operator/settings.ts';
import { runPlan, type RunResult } from '../../src/engine/runner.ts';
import type { EngineEvent } from '../../src/engine/step.ts';
import { crdEstablished } from '../../src/kube/readiness.ts';
import { credentialsFile, readCredentialsFile } from '../../src/orchestration/credentials.ts';
import { setCommandLogger } from '../../src/tools/exec.ts';
import { platformVolumes, startChartMirror, TEST_CHART_VERSIONS, type ChartMirror } from '../support/chart-mirror.ts';
import {
  componentPlan,
  helmRecorder,
  platformConfig,
  testbedContext,
  uniquePrefix,
  type HelmRecorder,
} from '../support/platform.ts';
import { kubectl, testbed, testbedKube } from '../support/testbed.ts';
import type { PlatformContext } from '../../src/orchestration/context.ts';

const RELEASES = [
  'koala-platform',
  'koala-rbac',
  'koala-network-policies',
  'koala-postgres',
  'spark-operator',
  'minio',
  'airflow',
];

function secretsOf(values: Record<string, Record<string, string>>): string[] {
  const identities = new Set([values.objectStore?.accessKey, values.airflow?.username]);
  return Object.values(values)
    .flatMap((group) => Object.values(group))
    .filter((v) => !identities.has(v));
}

function failures(result: RunResult): string {
  return result.steps
    .filter((s) => !['done', 'unchanged', 'skipped'].includes(s.status))
    .map((s) => `${s.id}: ${s.status} ${s.error?.message ?? s.detail ?? ''}`)
    .join('\n');
}

describe.each(['helm3', 'helm4'])('the platform components with %s', (helmName) => {
  const prefix = uniquePrefix(helmName === 'helm3' ? 'pi3' : 'pi4');
  let mirror: ChartMirror;
  let recorder: HelmRecorder;
  let ctx: PlatformContext;
  const saved = { helm: process.env.KOALA_HELM, cache: process.env.KOALA_CACHE_DIR };
  const output: string[] = [];
  const figures: Record<string, number> = {};

  beforeAll(async () => {
    const { binDir } = testbed();
    mirror = await startChartMirror(path.join(binDir, 'helm3'));
    recorder = helmRecorder(path.join(binDir, helmName));
    process.env.KOALA_HELM = recorder.wrapper;
    process.env.KOALA_CACHE_DIR = mkdtempSync(path.join(os.tmpdir(), 'koala-cache-'));
    ctx = testbedContext(platformConfig(prefix, mirror.url));
    // Postgres and MinIO claim volumes; the test bed has no provisioner, so offer them.
    for (const pv of platformVolumes(prefix, ctx.config.namespaces)) kubectl(['apply', '-f', '-'], JSON.stringify(pv));
    setCommandLogger((line) => output.push(line));
  });

  afterAll(async () => {
    setCommandLogger(undefined);
    process.env.KOALA_HELM = saved.helm;
    process.env.KOALA_CACHE_DIR = saved.cache;
    await mirror?.close();
    // The real operator chart makes cluster-wide objects named after the release (ClusterRoles,
    // webhook configurations): uninstall every release, so the next suite on this shared test bed
    // can install its own and no webhook is left pointing at a deleted Service.
    const tb = testbed();
    const helm = path.join(tb.binDir, helmName);
    const releases = JSON.parse(
      execFileSync(helm, ['list', '-A', '-o', 'json', '--kubeconfig', tb.kubeconfig, '--kube-context', tb.context], {
        encoding: 'utf8',
      }),
    ) as Array<{ name: string; namespace: string }>;
    for (const r of releases.filter((r) => r.namespace.startsWith(`${prefix}-`))) {
      execFileSync(
        helm,
        [
          'uninstall',
          r.name,
          '--namespace',
          r.namespace,
          '--wait',
          '--kubeconfig',
          tb.kubeconfig,
          '--kube-context',
          tb.context,
        ],
        { stdio: 'ignore' },
      );
    }
    for (const ns of ['system', 'spark-operator', 'jobs', 'object-store', 'airflow'])
      kubectl(['delete', 'namespace', `${prefix}-${ns}`, '--ignore-not-found', '--wait=false']);
    kubectl(['delete', 'pv', `${prefix}-pg`, `${prefix}-minio`, '--ignore-not-found', '--wait=false']);
    const cluster = `${prefix}-system`;
    kubectl([
      'delete',
      'clusterrole',
      `${cluster}-platform-namespaces`,
      `${cluster}-sparkapplications-edit`,
      `${cluster}-sparkapplications-view`,
      '--ignore-not-found',
    ]);
    kubectl(['delete', 'clusterrolebinding', `${cluster}-platform-namespaces`, '--ignore-not-found']);
    console.log(`[figures ${helmName}] ${JSON.stringify(figures)}`);
  });

  const run = async (plan = componentPlan(ctx)): Promise<{ result: RunResult; events: EngineEvent[] }> => {
    const events: EngineEvent[] = [];
    const result = await runPlan(plan, { onEvent: (e) => events.push(e) });
    output.push(JSON.stringify(events), JSON.stringify(result.steps.map((s) => ({ ...s, error: s.error?.message }))));
    return { result, events };
  };

  it('installs every component through the chart mirror, each waiting until ready', async () => {
    const started = performance.now();
    const { result } = await run();
    figures.firstRunMs = Math.round(performance.now() - started);
    expect(failures(result)).toBe('');
    expect(result.steps.filter((s) => s.id !== 'nodes-ready').every((s) => s.status === 'done')).toBe(true);
    for (const s of result.steps) figures[`${s.id}Ms`] = Math.round(s.durationMs);

    // Charts came from the mirror: its index, then each pinned chart's .tgz.
    expect(mirror.requests).toContain('/index.yaml');
    for (const chart of ['spark-operator-2.5.2.tgz', 'minio-5.4.0.tgz', `airflow-${TEST_CHART_VERSIONS.airflow}.tgz`])
      expect(mirror.requests).toContain(`/${chart}`);

    // Helm was driven with the flags of its version, values in 0600 files, never --set.
    const installs = recorder.calls().filter((c) => c.args[0] === 'upgrade');
    expect(installs.map((c) => c.args[2]).sort()).toEqual([...RELEASES].sort());
    for (const call of installs) {
      expect(call.args).toEqual(
        expect.arrayContaining([
          '--install',
          '--kube-context',
          ctx.kubeTarget.context,
          '--kubeconfig',
          ctx.kubeTarget.kubeconfig!,
        ]),
      );
      if (helmName === 'helm4')
        expect(call.args).toEqual(expect.arrayContaining(['--wait=watcher', '--rollback-on-failure']));
      else expect(call.args).toEqual(expect.arrayContaining(['--wait', '--atomic']));
      expect(call.args.some((a) => a.startsWith('--set'))).toBe(false);
      expect(call.valuesModes).toEqual(['600']);
    }

    const kube = await testbedKube();
    const crds = await Promise.all(
      SPARK_CRDS.map((name) =>
        kube.get<V1CustomResourceDefinition>({
          apiVersion: 'apiextensions.k8s.io/v1',
          kind: 'CustomResourceDefinition',
          metadata: { name },
        }),
      ),
    );
    expect(crds.every((c) => c && crdEstablished(c))).toBe(true);
    const operator = await kube.list<V1Deployment>('apps/v1', 'Deployment', { namespace: `${prefix}-spark-operator` });
    expect(operator.map((d) => d.metadata?.name).sort()).toEqual([
      'spark-operator-controller',
      'spark-operator-webhook',
    ]);
    // What the job loop relies on: the driver ServiceAccount and the S3 Secret in the job namespace.
    const settings = sparkJobSettings(ctx.config);
    expect(settings.serviceAccount).toBe(SPARK_SERVICE_ACCOUNT);
    expect(
      kubectl(['get', 'serviceaccount', settings.serviceAccount, '-n', settings.defaultNamespace, '-o', 'name']).trim(),
    ).toBe(`serviceaccount/${SPARK_SERVICE_ACCOUNT}`);
    const s3 = await kube.get<V1Secret>({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: settings.s3Secret, namespace: settings.defaultNamespace },
    });
    expect(Object.keys(s3?.data ?? {}).sort()).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_ENDPOINT_URL',
      'AWS_REGION',
      'AWS_SECRET_ACCESS_KEY',
    ]);
    expect(Buffer.from(s3!.data!.AWS_ENDPOINT_URL!, 'base64').toString()).toBe(
      `http://minio.${prefix}-object-store.svc.cluster.local:9000`,
    );
    // The bucket job ran (the test bed completes Job pods; a real cluster runs mc).
    expect(
      kubectl([
        'get',
        'jobs',
        '-n',
        `${prefix}-object-store`,
        '-l',
        'koala.dev/job=buckets',
        '-o',
        'jsonpath={.items[*].status.succeeded}',
      ]),
    ).toBe('1');
    // The DAG bundle, the policies, the credentials file.
    expect(
      kubectl(['get', 'configmap', 'airflow-dags', '-n', `${prefix}-airflow`, '-o', 'jsonpath={.data.dags\\.json}']),
    ).toBe('{"files":{}}');
    const policies = await kube.list<V1NetworkPolicy>('networking.k8s.io/v1', 'NetworkPolicy', {
      namespace: `${prefix}-airflow`,
    });
    expect(policies.map((p) => p.metadata?.name)).toContain('koala-default-deny');
    expect(statSync(credentialsFile(ctx)).mode & 0o777).toBe(0o600);
  });

  it('a second run compares and changes nothing: no install, no upgrade', async () => {
    const before = recorder.calls().length;
    const started = performance.now();
    const { result } = await run();
    figures.secondRunMs = Math.round(performance.now() - started);
    expect(failures(result)).toBe('');
    expect(result.steps.map((s) => s.status).filter((s) => s !== 'unchanged')).toEqual([]);
    const calls = recorder.calls().slice(before);
    // Only reads: the release list and its values.
    expect(
      [...new Set(calls.map((c) => c.args[0]))].filter((verb) => !['get', 'list', 'version'].includes(verb!)),
    ).toEqual([]);
    figures.secondRunHelmCalls = calls.length;
  });

  it('retries one component alone (--only airflow), from the chart cache with the mirror gone', async () => {
    kubectl(['delete', 'deployment', 'airflow-scheduler', '-n', `${prefix}-airflow`]);
    await mirror.close();
    mirror.requests.length = 0;
    const plan = componentPlan(ctx).select({ only: ['airflow'] });
    const { result } = await run(plan);
    expect(failures(result)).toBe('');
    const status = Object.fromEntries(result.steps.map((s) => [s.id, s.status]));
    // The broken release was repaired; what it needs was verified, not run; the rest left alone.
    expect(status.airflow).toBe('done');
    expect(status['airflow-postgres']).toBe('unchanged');
    expect(status.platform).toBe('unchanged');
    expect(status['spark-operator']).toBe('skipped');
    expect(kubectl(['get', 'deployment', 'airflow-scheduler', '-n', `${prefix}-airflow`, '-o', 'name']).trim()).toBe(
      'deployment.apps/airflow-scheduler',
    );
  });

  it('status reports every component healthy', async () => {
    const controller = new AbortController();
    const health = await Promise.all(
      COMPONENTS.filter((c) => c.id !== 'registry').map(async (c) => ({
        id: c.id,
        ...(await c.health(ctx, controller.signal)),
      })),
    );
    expect(health.filter((h) => !h.ok)).toEqual([]);
    expect(health.map((h) => h.id)).toEqual([
      'platform',
      'spark-operator',
      'object-store',
      'airflow',
      'gateway',
      'rbac',
      'network-policies',
    ]);
  });

  it('no credential appears in any output, --verbose command, or helm argument list', async () => {
    const stored = (await readCredentialsFile(credentialsFile(ctx))) as Record<string, Record<string, string>>;
    const secrets = secretsOf(stored);
    expect(secrets.length).toBeGreaterThanOrEqual(6);
    const argv = recorder.calls().map((c) => c.args.join(' '));
    const haystacks = { output: output.join('\n'), argv: argv.join('\n') };
    expect(output.some((l) => l.startsWith('$ ') && l.includes(' upgrade --install '))).toBe(true);
    for (const secret of secrets) {
      for (const [where, text] of Object.entries(haystacks))
        expect(text.includes(secret), `a credential appears in ${where}`).toBe(false);
    }
  });
});
