import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fetchChart, sha256 } from '../charts/fetch.ts';
import type { ChartPin } from '../charts/pins.ts';
import { deepMerge } from '../config/load.ts';
import type { Step, StepContext } from '../engine/step.ts';
import type { Kube } from '../kube/client.ts';
import { followPods } from '../kube/readiness.ts';
import type { PlatformContext } from '../orchestration/context.ts';
import type { UpStepId } from '../orchestration/up-order.ts';
import { ToolMissingError } from '../tools/exec.ts';
import {
  recoverStuckRelease,
  releaseState,
  releaseValues,
  templateChart,
  upgradeInstall,
  type ReleaseState,
} from '../tools/helm.ts';
import { redact, REDACTED } from '../tools/redact.ts';
import { assetPath } from '../util/paths.ts';

/**
 * A Helm release as a step of `koala up`. The check compares before acting: a release that is
 * deployed with the wanted chart version and exactly the wanted values, and whose workloads are
 * ready, is done - no helm upgrade, no API write. Otherwise the step installs or upgrades it
 * (helm waits, and rolls back a failed upgrade), showing pod progress meanwhile, then waits
 * for the component's own notion of ready.
 */

export interface ChartSpec {
  name: string;
  version: string;
  /** Where it comes from, for plans and messages. */
  origin: string;
  /** A chart directory or .tgz on disk, fetched on demand. */
  resolve(options: { signal: AbortSignal; report: (line: string) => void }): Promise<string>;
  /** koala's own chart: its directory, rendered into plans (upstream charts are only named). */
  local?: string;
}

export interface ReleaseDef {
  release: string;
  namespace: string;
  createNamespace?: boolean;
  chart(): Promise<ChartSpec>;
  /** The values koala passes (secrets included; they are registered for redaction). */
  values(): Promise<Record<string, unknown>>;
  /** The same values with secrets masked, for --dry-run: may not resolve credentials. */
  planValues?(): Promise<Record<string, unknown>>;
  timeoutSeconds: number;
  /** Namespace whose pods show progress while helm waits. */
  progressNamespace?: string;
  /** Work before an upgrade, e.g. removing finished Jobs whose pod template is immutable. */
  beforeUpgrade?(kube: Kube, ctx: StepContext): Promise<void>;
}

export interface ReadinessDef {
  check(kube: Kube): Promise<{ ready: boolean; detail: string }>;
  wait(kube: Kube, ctx: StepContext & { timeoutMs: number }): Promise<string>;
}

/** A pinned upstream chart, from its repository or the configured mirror, through the cache. */
export function pinnedChart(ctx: PlatformContext, pin: ChartPin): ChartSpec {
  const mirror = ctx.config.charts.mirror;
  return {
    name: pin.name,
    version: pin.version,
    origin: mirror ?? pin.repository,
    resolve: async ({ signal, report }) => (await fetchChart(pin, { mirror, signal, report })).file,
  };
}

export const PLATFORM_CHART = 'koala-platform';

/** koala's own chart, from assets/, with a digest of its files (so a changed template upgrades). */
export async function platformChart(): Promise<ChartSpec & { digest: string }> {
  const dir = assetPath('charts', PLATFORM_CHART);
  const version = /^version:\s*(\S+)/m.exec(await readFile(path.join(dir, 'Chart.yaml'), 'utf8'))?.[1] ?? '0.0.0';
  return {
    name: PLATFORM_CHART,
    version,
    origin: 'assets/charts/koala-platform',
    digest: await directoryDigest(dir),
    resolve: async () => dir,
    local: dir,
  };
}

export async function directoryDigest(dir: string): Promise<string> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath, e.name))
    .sort();
  const parts = await Promise.all(files.map(async (f) => `${path.relative(dir, f)}\0${sha256(await readFile(f))}`));
  return sha256(parts.join('\n')).slice(0, 16);
}

/** koala's values with the user's overrides (components.<id>.values) merged over them. */
export function withOverrides(
  ctx: PlatformContext,
  componentId: string,
  values: Record<string, unknown>,
): Record<string, unknown> {
  const overrides = ctx.config.components[componentId]?.values;
  return overrides ? deepMerge(values, overrides) : values;
}

export type Freshness =
  { upToDate: true; state: ReleaseState } | { upToDate: false; reason: string; state?: ReleaseState };

/** Does the release already hold the wanted chart version and values? Read-only. */
export async function releaseFreshness(
  ctx: PlatformContext,
  def: ReleaseDef,
  signal?: AbortSignal,
): Promise<Freshness> {
  const state = await releaseState(ctx.kubeTarget, def.release, def.namespace, signal);
  if (!state) return { upToDate: false, reason: `release ${def.release} is not installed` };
  if (state.status !== 'deployed')
    return { upToDate: false, reason: `release ${def.release} is ${state.status}`, state };
  const chart = await def.chart();
  if (state.chart !== `${chart.name}-${chart.version}`)
    return { upToDate: false, reason: `${state.chart} is installed, ${chart.name}-${chart.version} is wanted`, state };
  const [live, wanted] = await Promise.all([
    releaseValues(ctx.kubeTarget, def.release, def.namespace, signal),
    def.values(),
  ]);
  if (!sameValues(live, wanted)) return { upToDate: false, reason: `the values of ${def.release} changed`, state };
  return { upToDate: true, state };
}

/** Deep equality of two value trees as helm stores them (JSON types, key order ignored). */
export function sameValues(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(value: unknown): string {
  return JSON.stringify(normalize(JSON.parse(JSON.stringify(value ?? {}))));
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, normalize((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/**
 * What koala's chart creates with these values (NetworkPolicies, RoleBindings, Secrets…), for
 * the plan users review: `helm template` needs no cluster. Secret values are masked whatever
 * the values held. Without helm, a note says what is missing instead.
 */
async function renderedObjects(
  def: ReleaseDef,
  chartDir: string,
  values: Record<string, unknown>,
): Promise<Array<Record<string, unknown>> | string> {
  let text: string;
  try {
    text = await templateChart({ release: def.release, namespace: def.namespace, chart: chartDir, values });
  } catch (error) {
    if (error instanceof ToolMissingError)
      return `the objects of ${def.release} are not listed: ${error.message}; install helm to see them`;
    throw error;
  }
  const { loadAll } = await import('js-yaml');
  const objects = loadAll(text).filter((o): o is Record<string, unknown> => o !== null && typeof o === 'object');
  return objects.map((o) => JSON.parse(redact(JSON.stringify(maskSecret(o)))) as Record<string, unknown>);
}

function maskSecret(object: Record<string, unknown>): Record<string, unknown> {
  if (object.kind !== 'Secret') return object;
  const mask = (data: unknown): unknown =>
    data && typeof data === 'object' ? Object.fromEntries(Object.keys(data).map((k) => [k, REDACTED])) : data;
  return {
    ...object,
    ...('data' in object ? { data: mask(object.data) } : {}),
    ...('stringData' in object ? { stringData: mask(object.stringData) } : {}),
  };
}

/**
 * A release step. koala's own steps are named in src/orchestration/up-order.ts, which says what they
 * wait for; a component not listed there names the steps it needs itself.
 */
export function releaseStep(
  ctx: PlatformContext,
  spec: ({ id: UpStepId } | { id: string; needs: readonly string[] }) & {
    title: string;
    def: ReleaseDef;
    readiness?: ReadinessDef;
  },
): Step {
  const { def, readiness } = spec;
  const waitMs = ctx.config.timeouts.componentSeconds * 1000;
  return {
    id: spec.id,
    title: spec.title,
    ...('needs' in spec ? { needs: spec.needs } : {}),
    release: { name: def.release, namespace: def.namespace },
    // helm's own wait, then the readiness wait, each bounded; this is the backstop.
    timeoutMs: def.timeoutSeconds * 1000 + waitMs + 5 * 60_000,
    async plan() {
      const chart = await def.chart();
      const values = def.planValues ? await def.planValues() : await def.values();
      const rendered = chart.local ? await renderedObjects(def, chart.local, values) : undefined;
      return [
        {
          kind: 'helm',
          release: def.release,
          namespace: def.namespace,
          chart: `${chart.name} (${chart.origin})`,
          version: chart.version,
          values: JSON.parse(redact(JSON.stringify(values))) as Record<string, unknown>,
          ...(Array.isArray(rendered) ? { objects: rendered } : {}),
        },
        ...(typeof rendered === 'string' ? [{ kind: 'note' as const, text: rendered }] : []),
        { kind: 'wait', what: `${spec.title}: ready`, timeoutMs: waitMs },
      ];
    },
    async check({ signal }) {
      const fresh = await releaseFreshness(ctx, def, signal);
      if (!fresh.upToDate) return { done: false, reason: fresh.reason };
      if (readiness) {
        const ready = await readiness.check(await ctx.kube());
        if (!ready.ready) return { done: false, reason: `installed, not ready: ${ready.detail}` };
        return { done: true, detail: `${fresh.state.chart}, ${ready.detail}` };
      }
      return { done: true, detail: fresh.state.chart };
    },
    async run(stepCtx) {
      const { signal, report } = stepCtx;
      const kube = await ctx.kube();
      let fresh = await releaseFreshness(ctx, def, signal);
      if (
        !fresh.upToDate &&
        fresh.state &&
        (await recoverStuckRelease(ctx.kubeTarget, fresh.state, { signal, report }))
      ) {
        fresh = await releaseFreshness(ctx, def, signal);
      }
      let detail = fresh.upToDate ? `${fresh.state.chart} already installed` : '';
      // Installed as wanted but not ready (a workload deleted, say): helm applies the release
      // again, which recreates what is missing, and waits.
      const repair = fresh.upToDate && readiness !== undefined && !(await readiness.check(kube)).ready;
      if (repair) report(`${def.release} is installed but not ready; applying it again`);
      if (!fresh.upToDate || repair) {
        const chart = await def.chart();
        const chartPath = await chart.resolve({ signal, report });
        if (fresh.state && def.beforeUpgrade) await def.beforeUpgrade(kube, stepCtx);
        const verb = fresh.state ? (repair ? 'repairing' : 'upgrading') : 'installing';
        report(`${verb} ${def.release} (${chart.name} ${chart.version}); helm waits up to ${def.timeoutSeconds}s`);
        const progress = new AbortController();
        const following = def.progressNamespace
          ? followPods(kube, def.progressNamespace, AbortSignal.any([signal, progress.signal]), report)
          : Promise.resolve();
        try {
          await upgradeInstall(
            ctx.kubeTarget,
            {
              release: def.release,
              namespace: def.namespace,
              chart: chartPath,
              values: await def.values(),
              timeoutSeconds: def.timeoutSeconds,
              ...(def.createNamespace ? { createNamespace: true } : {}),
            },
            { signal },
          );
        } finally {
          progress.abort();
          await following;
        }
        detail = `${chart.name}-${chart.version} ${fresh.state ? (repair ? 'repaired' : 'upgraded') : 'installed'}`;
      }
      if (readiness) detail = `${detail}; ${await readiness.wait(kube, { ...stepCtx, timeoutMs: waitMs })}`;
      return detail;
    },
  };
}
