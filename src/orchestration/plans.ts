import { reachClusterStep, namespacesStep } from '../cluster/existing.ts';
import { clusterSpecStep, clusterStep, nodesReadyStep } from '../cluster/steps.ts';
import { existsSync } from 'node:fs';
import { COMPONENTS } from '../components/all.ts';
import type { Component } from '../components/component.ts';
import { Plan } from '../engine/plan.ts';
import type { Step } from '../engine/step.ts';
import { releaseState, uninstall } from '../tools/helm.ts';
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
  const contributed: Step[] =
    ctx.target.kind === 'kind'
      ? [clusterStep(ctx), nodesReadyStep(ctx), clusterSpecStep(ctx)]
      : [reachClusterStep(ctx), nodesReadyStep(ctx)];
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

/**
 * `koala down`: the cluster (and everything in it), then what lives outside it. On a cluster
 * koala did not create: the Helm releases `up` installs, the last installed first, and never
 * the cluster.
 */
export function downPlan(
  ctx: PlatformContext,
  options: { keepRegistry: boolean },
  components: readonly Component[] = COMPONENTS,
): Plan {
  if (ctx.target.kind === 'existing') return uninstallPlan(ctx, components);
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

/**
 * Uninstall what `up` installed on a cluster koala did not create: every release its plan
 * names, in the reverse of the plan's order, so koala's chart (the namespaces, which take the
 * volumes' claims with them) goes last. The CRDs the Spark operator's chart installs stay, as
 * Helm keeps every CRD; the cluster and everything else on it are left alone.
 */
function uninstallPlan(ctx: PlatformContext, components: readonly Component[]): Plan {
  const releases = upPlan(ctx, components)
    .steps.flatMap((step) => (step.release ? [step.release] : []))
    .reverse();
  const steps = releases.map((release): Step => ({
    id: `uninstall-${release.name}`,
    title: `Uninstall Helm release ${release.namespace}/${release.name}`,
    plan: () => [
      { kind: 'command', tool: 'helm', args: ['uninstall', release.name, '--namespace', release.namespace] },
    ],
    async check({ signal }) {
      const state = await releaseState(ctx.kubeTarget, release.name, release.namespace, signal);
      return state ? { done: false } : { done: true, detail: 'not installed' };
    },
    async run({ signal }) {
      await uninstall(ctx.kubeTarget, release.name, release.namespace, {
        signal,
        timeoutSeconds: ctx.config.timeouts.componentSeconds,
      });
    },
  }));
  const forget: Step = {
    id: 'forget',
    title: `Remove koala's record of context "${ctx.kubeTarget.context}" (${ctx.home})`,
    plan: () => [{ kind: 'note', text: `rm -r ${ctx.home}` }],
    async check() {
      return existsSync(ctx.home) ? { done: false } : { done: true, detail: 'no record' };
    },
    async run() {
      await removeHome(ctx.home);
    },
  };
  // One after another: koala's chart, which holds the namespaces the others live in, goes last.
  const ordered = [...steps, namespacesStep(ctx), forget];
  return new Plan(ordered.map((step, i) => (i > 0 ? { ...step, needs: [ordered[i - 1]!.id] } : step)));
}
