import { clusterSpecStep, clusterStep, nodesReadyStep } from '../cluster/steps.ts';
import { COMPONENTS } from '../components/all.ts';
import type { Component } from '../components/component.ts';
import { Plan } from '../engine/plan.ts';
import type { Step } from '../engine/step.ts';
import { deleteCluster, deleteClusterArgs, kindClusters } from '../tools/kind.ts';
import type { PlatformContext } from './context.ts';
import { removeHome } from './state.ts';
import { isUpStepId, UP_NEEDS, UP_STEP_IDS } from './up-order.ts';

export function enabledComponents(ctx: PlatformContext, all: readonly Component[] = COMPONENTS): Component[] {
  return all.filter((c) => c.enabled(ctx.config));
}

/**
 * `koala up`: the cluster's steps and every enabled component's, in the order and with the
 * dependencies of src/orchestration/up-order.ts; then the steps of components not listed there, with
 * the `needs` they bring.
 */
export function upPlan(ctx: PlatformContext, components: readonly Component[] = COMPONENTS): Plan {
  const contributed: Step[] = [clusterStep(ctx), nodesReadyStep(ctx), clusterSpecStep(ctx)];
  for (const component of enabledComponents(ctx, components)) contributed.push(...component.steps(ctx));
  const byId = new Map(contributed.map((step) => [step.id, step]));
  const listed = UP_STEP_IDS.flatMap((id) => {
    const step = byId.get(id);
    if (!step) return [];
    if (step.needs) throw new Error(`plan: step "${id}" names its needs; src/orchestration/up-order.ts holds them`);
    return [{ ...step, needs: UP_NEEDS[id] }];
  });
  return new Plan([...listed, ...contributed.filter((step) => !isUpStepId(step.id))]);
}

/** `koala down`: the cluster (and everything in it), then what lives outside it. */
export function downPlan(
  ctx: PlatformContext,
  options: { keepRegistry: boolean },
  components: readonly Component[] = COMPONENTS,
): Plan {
  const name = ctx.spec.name;
  const cluster: Step = {
    id: 'cluster-delete',
    title: `Delete kind cluster "${name}"`,
    plan: () => [{ kind: 'command', tool: 'kind', args: deleteClusterArgs(name) }],
    async check({ signal }) {
      return (await kindClusters(signal)).includes(name) ? { done: false } : { done: true, detail: 'no such cluster' };
    },
    async run({ signal }) {
      await deleteCluster(name, { signal });
      await removeHome(ctx.home);
    },
  };
  const outside = components.flatMap((c) => c.teardown?.(ctx, options) ?? []);
  return new Plan([cluster, ...outside]);
}
