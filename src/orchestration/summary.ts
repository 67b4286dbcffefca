import type { RunResult } from '../engine/runner.ts';
import { formatDuration } from '../engine/runner.ts';
import type { Summary } from '../ui/summary.ts';
import type { PlatformContext } from './context.ts';
import { enabledComponents } from './plans.ts';
import { anyDataComponent } from '../components/names.ts';
import type { Component } from '../components/component.ts';
import { serviceEndpoints } from '../components/endpoints.ts';
import { COMPONENTS } from '../components/all.ts';

/** The end of `koala up`: the headline, endpoints and the next commands. */
export function upSummary(
  ctx: PlatformContext,
  result: RunResult,
  components: readonly Component[] = COMPONENTS,
): Summary {
  const { spec } = ctx;
  const shape = `${spec.controlPlanes} control-plane, ${spec.workers} worker, ${spec.kubernetesVersion}`;
  const where =
    ctx.target.kind === 'existing'
      ? `context "${ctx.target.context}" (a cluster koala did not create)`
      : `cluster "${spec.name}" (${shape})`;
  const changed = result.steps.filter((s) => s.status === 'done').length;
  let headline: string;
  if (result.ok) {
    headline =
      changed === 0
        ? `koala is up; nothing to change (${formatDuration(result.durationMs)}): ${where}`
        : `koala is up in ${formatDuration(result.durationMs)}: ${where}`;
  } else if (result.interrupted) {
    headline = 'koala up was interrupted. Run `koala up` again to resume where it stopped.';
  } else {
    headline =
      'koala up did not finish. Fix the failure below, then run `koala up` again: finished steps are not repeated.';
  }
  if (!result.ok) return { headline, result };
  return {
    headline,
    result,
    endpoints: enabledComponents(ctx, components).flatMap((c) => c.endpoints?.(ctx) ?? serviceEndpoints(ctx.config, c)),
    next: [
      ['koala status', 'the health of the cluster and every component'],
      ...(anyDataComponent(ctx.config)
        ? ([
            [
              'koala credentials',
              `the Airflow and object store credentials (kept in ${ctx.home}/credentials.json, mode 0600)`,
            ],
            ['koala users kubeconfig view', 'a kubeconfig for the view persona (or admin, edit)'],
            ['koala dags sync', `publish changes to ${ctx.config.airflow.dagsDir}/ to Airflow`],
          ] as Array<[string, string]>)
        : []),
      ...(ctx.target.kind === 'existing'
        ? ([[`koala down --context ${ctx.target.context}`, 'remove what koala installed; the cluster stays']] as Array<
            [string, string]
          >)
        : ([
            [`kubectl config use-context ${ctx.kubeTarget.context}`, 'point kubectl at the cluster (kind already did)'],
            ['koala down', 'remove everything koala created'],
          ] as Array<[string, string]>)),
    ],
  };
}
