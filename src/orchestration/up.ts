import { runExistingPreflight, serverOf } from '../cluster/existing.ts';
import { inspectCluster } from '../cluster/inspect.ts';
import { runPreflight, type CheckOutcome } from '../cluster/preflight.ts';
import { clusterSpec, diffSpecs, resolveNodeImage } from '../cluster/spec.ts';
import { kindClusterOfContext } from '../cluster/target.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { Plan } from '../engine/plan.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import { createPlatformContext, type PlatformContext } from './context.ts';
import { checkCredentialInputs } from './credentials.ts';
import { upPlan } from './plans.ts';
import { readConsent, readRecord } from './state.ts';
import { clusterHome } from '../util/paths.ts';

export interface UpRequest {
  loaded: LoadedConfig;
  recreate: boolean;
  only?: string[];
  skip?: string[];
  /** Preflight checks whose failure the user accepts (--ignore-checks); they become warnings. */
  ignoreChecks?: string[];
  signal?: AbortSignal;
}

export interface PreparedUp {
  ctx: PlatformContext;
  plan: Plan;
  preflight: CheckOutcome[];
  notes: string[];
  /**
   * Set when `up` is about to install onto a cluster koala did not create and the user has not
   * yet agreed to it for this server: the command asks (or takes --yes) before it runs the plan.
   */
  consent?: { context: string; server: string };
}

/** The plan alone, touching nothing and running no tool: what `--dry-run` prints. */
export function planUpDry(request: UpRequest): { ctx: PlatformContext; plan: Plan; notes: string[] } {
  const { config, env } = request.loaded;
  const image = resolveNodeImage(config.cluster, undefined);
  const ctx = createPlatformContext({ config, env, spec: clusterSpec(config, image), recreate: request.recreate });
  return { ctx, plan: select(upPlan(ctx), request), notes: image.note ? [image.note] : [] };
}

/**
 * Everything `up` does before it changes anything: preflight, the node image for this host,
 * and a comparison with the cluster that is already there. Throws with nothing changed.
 */
export async function prepareUp(request: UpRequest): Promise<PreparedUp> {
  const { config, env } = request.loaded;
  // Bad input stops here, before anything changes (exit 2).
  checkCredentialInputs(env, config);
  if (config.cluster.context) return prepareExistingUp(request);
  const provisional = resolveNodeImage(config.cluster, undefined);
  const { outcomes, docker } = await runPreflight({
    config,
    spec: clusterSpec(config, provisional),
    platform: process.platform,
  });
  const image = resolveNodeImage(config.cluster, docker?.cgroupVersion);
  const spec = clusterSpec(config, image);
  const preflight = acceptIgnored(outcomes, request.ignoreChecks);
  const ctx = createPlatformContext({ config, env, spec, recreate: request.recreate });
  const existing = await inspectCluster(ctx, request.signal);
  if (existing.exists && existing.spec && !request.recreate) {
    const diff = diffSpecs(existing.spec, spec);
    if (diff.length > 0) {
      throw new KoalaError(
        `Cluster "${spec.name}" exists with a different spec:\n${diff.map((d) => `  ${d}`).join('\n')}`,
        {
          hint:
            'Run `koala up --recreate` to delete and recreate it (its data goes with it), ' +
            'or change koala.yaml back.',
        },
      );
    }
  }
  // The cluster step deletes a cluster whose create was interrupted and makes it again.
  const interrupted = existing.exists && !request.recreate && (await readRecord(ctx.home))?.phase === 'creating';
  const reuse = interrupted
    ? [`cluster "${spec.name}" was left incomplete by an interrupted create; deleting it and creating it again`]
    : existing.exists && !request.recreate
      ? [`cluster "${spec.name}" exists; reusing it`]
      : [];
  const notes = [...(image.note ? [image.note] : []), ...reuse];
  return { ctx, plan: select(upPlan(ctx), request), preflight, notes };
}

/**
 * `up` on a cluster koala did not create (cluster.context): no kind, no local registry, its own
 * preflight. It refuses a context of one of koala's kind clusters, which `--name` reaches.
 */
async function prepareExistingUp(request: UpRequest): Promise<PreparedUp> {
  const { config, env } = request.loaded;
  const context = config.cluster.context!;
  const kindName = kindClusterOfContext(context);
  if (kindName && (await readRecord(clusterHome(kindName)))) {
    throw new KoalaError(
      `Context "${context}" is koala's own kind cluster "${kindName}", not a cluster koala did not create`,
      {
        hint: `Run \`koala up --name ${kindName}\` for it, and leave --context (cluster.context) for other clusters.`,
        exitCode: EXIT.usage,
      },
    );
  }
  if (request.recreate) {
    throw new KoalaError('--recreate deletes a kind cluster; koala never deletes a cluster it did not create', {
      hint: 'Run `koala down --context ' + context + '` to remove the platform from it, then `koala up` again.',
      exitCode: EXIT.usage,
    });
  }
  const ctx = createPlatformContext({
    config,
    env,
    spec: clusterSpec(config, resolveNodeImage(config.cluster, undefined)),
  });
  const preflight = acceptIgnored(await runExistingPreflight(ctx), request.ignoreChecks);
  const server = serverOf(await ctx.kube());
  const agreed = await readConsent(ctx.home);
  const notes = [
    `context "${context}" (${server}): a cluster koala did not create; no kind cluster, no local registry`,
  ];
  return {
    ctx,
    plan: select(upPlan(ctx), request),
    preflight,
    notes,
    ...(agreed?.context === context && agreed.server === server ? {} : { consent: { context, server } }),
  };
}

/** Checks the user named in --ignore-checks turn from failures into warnings; any other failure stops. */
function acceptIgnored(outcomes: CheckOutcome[], ignoreChecks: readonly string[] = []): CheckOutcome[] {
  const ignored = new Set(ignoreChecks);
  const unknown = [...ignored].filter((id) => !outcomes.some((o) => o.id === id));
  if (unknown.length > 0) {
    throw new KoalaError(`Unknown check for --ignore-checks: ${unknown.join(', ')}`, {
      hint: `Checks: ${outcomes.map((o) => o.id).join(', ')}`,
      exitCode: EXIT.usage,
    });
  }
  const preflight = outcomes.map((o) => {
    if (o.status === 'fail' && ignored.has(o.id))
      return { ...o, status: 'warn' as const, detail: `${o.detail} (ignored: --ignore-checks)` };
    return o;
  });
  const failed = preflight.filter((o) => o.status === 'fail');
  if (failed.length > 0) throw new PreflightError(failed);
  return preflight;
}

function select(plan: Plan, request: UpRequest): Plan {
  return plan.select({
    ...(request.only ? { only: request.only } : {}),
    ...(request.skip ? { skip: request.skip } : {}),
  });
}

export class PreflightError extends KoalaError {
  readonly outcomes: CheckOutcome[];

  constructor(failed: CheckOutcome[]) {
    const lines = failed.map((o) => `  ✗ ${o.title}: ${o.detail}${o.fix ? `\n    fix: ${o.fix}` : ''}`);
    super(`Preflight failed; nothing was changed:\n${lines.join('\n')}`, {
      hint: 'Fix the checks above and run `koala up` again; `koala doctor` runs the checks alone.',
    });
    this.name = 'PreflightError';
    this.outcomes = failed;
  }
}
