import type { UpStepId } from '../../orchestration/up-order.ts';
import { canI } from '../../kube/access.ts';
import type { Kube } from '../../kube/client.ts';
import type { PlatformContext } from '../../orchestration/context.ts';
import type { Component } from '../component.ts';
import { RBAC } from './declaration.ts';
import { anyDataComponent, RELEASES } from '../names.ts';
import { platformChart, releaseFreshness, releaseStep, type ReleaseDef } from '../release.ts';
import { PERSONAS, rbacValues } from './personas.ts';

/**
 * Three personas, Admin, Edit and View, as groups (and ServiceAccounts) bound to the built-in admin,
 * edit and view ClusterRoles in every platform namespace; SparkApplications joined to those
 * roles through aggregated ClusterRoles; and Airflow's narrow Role in the job namespaces.
 */

export const COMPONENT_ID = RBAC.id satisfies UpStepId;

export function rbacRelease(ctx: PlatformContext): ReleaseDef {
  return {
    release: RELEASES.rbac,
    namespace: ctx.config.namespaces.system,
    chart: platformChart,
    values: async () => ({ chartDigest: (await platformChart()).digest, ...rbacValues(ctx.config) }),
    timeoutSeconds: 120,
  };
}

/**
 * The aggregation controller fills admin/edit/view a moment after the ClusterRoles appear; ask
 * the authorizer whether it has: an editor may create SparkApplications, a viewer may not.
 */
async function aggregationLive(kube: Kube, ctx: PlatformContext): Promise<{ ready: boolean; detail: string }> {
  const namespace = ctx.config.spark.jobNamespaces[0]!;
  const ask = (p: (typeof PERSONAS)[number], verb: string) =>
    canI(kube, {
      user: `koala-${p.name}`,
      groups: [p.group],
      verb,
      group: 'sparkoperator.k8s.io',
      resource: 'sparkapplications',
      namespace,
    });
  const [edit, view] = [PERSONAS.find((p) => p.name === 'edit')!, PERSONAS.find((p) => p.name === 'view')!];
  const [editCreate, viewGet, viewCreate] = await Promise.all([
    ask(edit, 'create'),
    ask(view, 'get'),
    ask(view, 'create'),
  ]);
  if (viewCreate) return { ready: false, detail: 'the view persona may create SparkApplications: RBAC is wrong' };
  if (!editCreate || !viewGet)
    return { ready: false, detail: 'SparkApplications are not yet aggregated into edit and view' };
  return { ready: true, detail: `${PERSONAS.map((p) => p.name).join(', ')} bound; SparkApplications aggregated` };
}

export const rbac: Component = {
  ...RBAC,
  title: 'RBAC personas',
  enabled: (config) => anyDataComponent(config) && config.components[COMPONENT_ID]?.enabled !== false,
  steps: (ctx) => [
    releaseStep(ctx, {
      id: COMPONENT_ID,
      title: "Bind the admin, edit and view personas and Airflow's Spark role",
      def: rbacRelease(ctx),
      readiness: {
        check: (kube) => aggregationLive(kube, ctx),
        async wait(kube, { signal, report, timeoutMs }) {
          const deadline = Date.now() + Math.min(timeoutMs, 60_000);
          // A SubjectAccessReview cannot be watched; a short bounded poll is the honest way.
          for (;;) {
            const state = await aggregationLive(kube, ctx);
            if (state.ready) return state.detail;
            if (Date.now() > deadline || signal.aborted) throw new Error(`RBAC: ${state.detail}`);
            report(state.detail);
            await new Promise((resolve) => setTimeout(resolve, 500));
          }
        },
      },
    }),
  ],
  async health(ctx, signal) {
    const fresh = await releaseFreshness(ctx, rbacRelease(ctx), signal);
    if (!fresh.state) return { ok: false, missing: true, detail: 'not installed' };
    const state = await aggregationLive(await ctx.kube(), ctx);
    return { ok: state.ready && fresh.state.status === 'deployed', detail: state.detail };
  },
};
