/**
 * Platform benchmark: the component steps of `koala up` on a test-bed control plane
 * (kwok nodes, Helm 4, charts from a mirror on 127.0.0.1). Figures: the first install, a second
 * `koala up` (which compares and changes nothing), and the baseline a script built on
 * `helm upgrade --install` pays on every run: upgrading every release again with the same
 * values, measured in the same run. Ratio: koala's re-run / the always-upgrade baseline.
 *
 *   node bench/platform.ts
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { clusterSpec, resolveNodeImage } from '../src/cluster/spec.ts';
import { defaultConfig } from '../src/config/schema.ts';
import type { Plan } from '../src/engine/plan.ts';
import { runPlan } from '../src/engine/runner.ts';
import { Kube } from '../src/kube/client.ts';
import type { PlatformContext } from '../src/orchestration/context.ts';
import { upgradeInstall } from '../src/tools/helm.ts';
import { platformVolumes, startChartMirror, TEST_CHART_VERSIONS } from '../test/support/chart-mirror.ts';
import { componentPlan } from '../test/support/platform.ts';
import { startBed } from './lib/testbed.ts';
import { platformRelease } from '../src/components/foundation/index.ts';
import { sparkOperatorRelease } from '../src/components/spark-operator/index.ts';
import { objectStoreRelease } from '../src/components/object-store/index.ts';
import { airflowRelease, postgresRelease } from '../src/components/airflow/index.ts';
import { rbacRelease } from '../src/components/rbac/index.ts';
import { networkPoliciesRelease } from '../src/components/network-policies/index.ts';

const bed = startBed('bench-unused');
const mirror = await startChartMirror(path.join(process.env.KOALA_TESTBED_BIN!, 'helm3'));
process.env.KOALA_HELM = path.join(process.env.KOALA_TESTBED_BIN!, 'helm4');
process.env.KOALA_CACHE_DIR = mkdtempSync(path.join(os.tmpdir(), 'koala-bench-cache-'));
try {
  const config = defaultConfig(mkdtempSync(path.join(os.tmpdir(), 'koala-bench-project-')));
  config.cluster.name = bed.cluster;
  config.charts.mirror = mirror.url;
  config.ports = { airflow: 0, objectStore: 0, objectStoreConsole: 0, gateway: 0 };
  config.components.airflow = { ...config.components.airflow!, version: TEST_CHART_VERSIONS.airflow };
  // Postgres and MinIO claim volumes; the test bed has no provisioner.
  for (const pv of platformVolumes('bench', config.namespaces)) bed.kubectl(['apply', '-f', '-'], JSON.stringify(pv));
  const kubeTarget = { kubeconfig: bed.kubeconfig, context: `kind-${bed.cluster}` };
  let connection: Promise<Kube> | undefined;
  const ctx: PlatformContext = {
    config,
    env: new Map(),
    spec: clusterSpec(config, resolveNodeImage(config.cluster, undefined)),
    target: { kind: 'existing', name: config.cluster.name, context: kubeTarget.context },
    kubeTarget,
    home: mkdtempSync(path.join(os.tmpdir(), 'koala-bench-home-')),
    recreate: false,
    kube: () => (connection ??= Kube.connect(kubeTarget)),
  };
  const plan = (): Plan => componentPlan(ctx);

  const timed = async (what: string, work: () => Promise<unknown>): Promise<number> => {
    const started = performance.now();
    await work();
    const ms = performance.now() - started;
    console.log(`${what.padEnd(44)} ${(ms / 1000).toFixed(1)}s`);
    return ms;
  };
  const check = async (): Promise<void> => {
    const result = await runPlan(plan());
    if (!result.ok)
      throw new Error(
        result.steps
          .filter((s) => s.error)
          .map((s) => `${s.id}: ${s.error?.message}`)
          .join('\n'),
      );
  };
  await timed('first install (all components)', check);
  const rerun = await timed('koala up again (compares, changes nothing)', check);
  const releases = [
    platformRelease,
    rbacRelease,
    networkPoliciesRelease,
    postgresRelease,
    sparkOperatorRelease,
    objectStoreRelease,
    airflowRelease,
  ].map((r) => r(ctx));
  const baseline = await timed('baseline: helm upgrade --install every release', async () => {
    // In dependency order, as a script would run them (the platform first, then the rest in parallel).
    const [first, ...rest] = releases;
    const upgrade = async (def: (typeof releases)[number]) =>
      upgradeInstall(kubeTarget, {
        release: def.release,
        namespace: def.namespace,
        chart: await (await def.chart()).resolve({ signal: AbortSignal.timeout(600_000), report: () => {} }),
        values: await def.values(),
        timeoutSeconds: 300,
        ...(def.createNamespace ? { createNamespace: true } : {}),
      });
    await upgrade(first!);
    await Promise.all(rest.map(upgrade));
  });
  console.log(`ratio: koala re-run / always-upgrade baseline = ${(rerun / baseline).toFixed(2)}`);
} finally {
  await mirror.close();
  bed.stop();
}
