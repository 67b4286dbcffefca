/**
 * The platform's component steps against the test bed: a PlatformContext pointed at the test
 * bed's kubeconfig and context (the steps take the cluster from the context and nothing else),
 * with namespaces of its own per test file, koala's state and chart cache in temp dirs, and a
 * helm wrapper (KOALA_HELM) that records every argument list it is called with.
 */
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { clusterSpec, resolveNodeImage } from '../../src/cluster/spec.ts';
import { defaultConfig, type KoalaConfig } from '../../src/config/schema.ts';
import type { EnvValue } from '../../src/config/env.ts';
import { COMPONENTS } from '../../src/components/all.ts';
import { Plan } from '../../src/engine/plan.ts';
import { isUpStepId, UP_NEEDS } from '../../src/orchestration/up-order.ts';
import type { Step } from '../../src/engine/step.ts';
import { Kube } from '../../src/kube/client.ts';
import type { PlatformContext } from '../../src/orchestration/context.ts';
import { TEST_CHART_VERSIONS } from './chart-mirror.ts';
import { testbed } from './testbed.ts';

/** Namespaces and cluster-scoped names of one test file's platform, all under one prefix. */
export function platformConfig(
  prefix: string,
  mirror: string | undefined,
  overrides: (c: KoalaConfig) => void = () => {},
): KoalaConfig {
  const config = defaultConfig(mkdtempSync(path.join(os.tmpdir(), 'koala-project-')));
  config.cluster.name = prefix;
  config.namespaces = {
    system: `${prefix}-system`,
    sparkOperator: `${prefix}-spark-operator`,
    objectStore: `${prefix}-object-store`,
    airflow: `${prefix}-airflow`,
    gateway: `${prefix}-gateway`,
  };
  config.spark.jobNamespaces = [`${prefix}-jobs`];
  config.charts.mirror = mirror;
  // NodePorts are cluster-wide; the test bed is shared, so reach services by port-forward only.
  config.ports = { airflow: 0, objectStore: 0, objectStoreConsole: 0, gateway: 0 };
  config.timeouts.componentSeconds = 180;
  config.components.airflow = { ...config.components.airflow!, version: TEST_CHART_VERSIONS.airflow };
  overrides(config);
  return config;
}

export function uniquePrefix(stem: string): string {
  return `${stem}${randomBytes(2).toString('hex')}`;
}

/** A context like createPlatformContext's, but on the test bed's kubeconfig and context. */
export function testbedContext(
  config: KoalaConfig,
  options: { env?: Record<string, string>; home?: string } = {},
): PlatformContext {
  const tb = testbed();
  const kubeTarget = { kubeconfig: tb.kubeconfig, context: tb.context };
  const env = new Map<string, EnvValue>(
    Object.entries(options.env ?? {}).map(([k, v]) => [k, { value: v, source: `environment variable ${k}` }]),
  );
  let connection: Promise<Kube> | undefined;
  return {
    config,
    env,
    spec: clusterSpec(config, resolveNodeImage(config.cluster, undefined)),
    target: { kind: 'existing', name: config.cluster.name, context: kubeTarget.context },
    kubeTarget,
    home: options.home ?? mkdtempSync(path.join(os.tmpdir(), 'koala-home-')),
    recreate: false,
    kube: () => (connection ??= Kube.connect(kubeTarget)),
  };
}

/** The component steps of `koala up` (the cluster steps are the kind stand-in's business). */
export function componentPlan(ctx: PlatformContext): Plan {
  const nodesReady: Step = {
    id: 'nodes-ready',
    title: 'test bed nodes',
    plan: () => [],
    check: async () => ({ done: true }),
    run: async () => undefined,
  };
  const steps = [
    nodesReady,
    ...COMPONENTS.filter((c) => c.id !== 'registry' && c.enabled(ctx.config)).flatMap((c) => c.steps(ctx)),
  ];
  // The order of up (src/orchestration/up-order.ts), less the cluster and registry steps left out here.
  const ids = new Set(steps.map((s) => s.id));
  return new Plan(steps.map((s) => (isUpStepId(s.id) ? { ...s, needs: UP_NEEDS[s.id].filter((n) => ids.has(n)) } : s)));
}

export interface HelmRecorder {
  /** Set as KOALA_HELM. */
  wrapper: string;
  /** Each call: its arguments, and for each --values file its mode as helm saw it. */
  calls(): Array<{ args: string[]; valuesModes: string[] }>;
  reset(): void;
}

/** A helm wrapper that logs argv (what `ps` shows) and the mode of each values file, then runs the real helm. */
export function helmRecorder(realHelm: string): HelmRecorder {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-helm-'));
  const log = path.join(dir, 'calls.jsonl');
  const wrapper = path.join(dir, 'helm');
  writeFileSync(log, '');
  writeFileSync(
    wrapper,
    [
      '#!/usr/bin/env bash',
      'modes=()',
      'prev=""',
      'for a in "$@"; do',
      '  if [[ "$prev" == "--values" || "$prev" == "-f" ]]; then modes+=("$(stat -c %a "$a")"); fi',
      '  prev="$a"',
      'done',
      // One JSON line: the arguments ($# of them), then the mode of each values file. It is written
      // with one write(2) on an O_APPEND file, so the lines of helm calls made at the same time do
      // not interleave (print() writes the line and its newline apart when Python is unbuffered).
      `python3 - "$#" "$@" "\${modes[@]}" >> '${log}' <<'PY'`,
      'import json, os, sys',
      'n = int(sys.argv[1])',
      'line = json.dumps({"args": sys.argv[2 : n + 2], "valuesModes": sys.argv[n + 2 :]}) + "\\n"',
      'os.write(1, line.encode())',
      'PY',
      `exec '${realHelm}' "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
  return {
    wrapper,
    calls: () =>
      readFileSync(log, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { args: string[]; valuesModes: string[] }),
    reset: () => writeFileSync(log, ''),
  };
}
