import type { UpStepId } from '../../orchestration/up-order.ts';
import type { V1Deployment } from '@kubernetes/client-node';
import { imageFor, registryRepositoryTag } from '../../charts/images.ts';
import { chartFor, loadPins, type Pins } from '../../charts/pins.ts';
import type { KoalaConfig } from '../../config/schema.ts';
import type { Kube } from '../../kube/client.ts';
import { crdsNotEstablished, deploymentReady, waitForCrds, waitForWorkloads } from '../../kube/readiness.ts';
import type { PlatformContext } from '../../orchestration/context.ts';
import type { Component } from '../component.ts';
import { SPARK_OPERATOR } from './declaration.ts';
import { RELEASES } from '../names.ts';
import {
  pinnedChart,
  releaseFreshness,
  releaseStep,
  withOverrides,
  type ReadinessDef,
  type ReleaseDef,
} from '../release.ts';
import { SPARK_CRDS, SPARK_SERVICE_ACCOUNT } from './settings.ts';

/**
 * The kubeflow Spark operator (chart 2.5.2) in its own namespace, watching the job namespaces
 * (created first, by the platform step), with its webhook on: without it the driver and
 * executor pod fields of a SparkApplication (env, volumes, securityContext…) are silently
 * dropped. Ready means: both CRDs Established, controller and webhook available.
 */

export const COMPONENT_ID = SPARK_OPERATOR.id satisfies UpStepId;
/** The chart's Deployments: <release>-controller and <release>-webhook. */
export const OPERATOR_DEPLOYMENTS = [`${RELEASES.sparkOperator}-controller`, `${RELEASES.sparkOperator}-webhook`];

const small = (cpu: string, memory: string) => ({ requests: { cpu, memory }, limits: { memory: '512Mi' } });

/** Values for the chart (keys as in its values.yaml at v2.5.2). */
export function sparkOperatorValues(config: KoalaConfig, pins: Pins): Record<string, unknown> {
  return {
    image: { ...registryRepositoryTag(imageFor(config, pins, 'sparkOperator')), pullPolicy: 'IfNotPresent' },
    spark: {
      jobNamespaces: [...config.spark.jobNamespaces],
      serviceAccount: { create: true, name: SPARK_SERVICE_ACCOUNT },
      rbac: { create: true },
    },
    controller: { replicas: 1, uiService: { enable: true }, resources: small('50m', '128Mi') },
    webhook: { enable: true, replicas: 1, resources: small('50m', '96Mi') },
    // Nothing scrapes it on a laptop; one port less to allow.
    prometheus: { metrics: { enable: false } },
  };
}

export function sparkOperatorRelease(ctx: PlatformContext): ReleaseDef {
  const namespace = ctx.config.namespaces.sparkOperator;
  return {
    release: RELEASES.sparkOperator,
    namespace,
    chart: async () => pinnedChart(ctx, chartFor(await loadPins(), 'spark-operator', ctx.config, COMPONENT_ID)),
    values: async () => withOverrides(ctx, COMPONENT_ID, sparkOperatorValues(ctx.config, await loadPins())),
    timeoutSeconds: ctx.config.timeouts.componentSeconds,
    progressNamespace: namespace,
  };
}

async function operatorReadiness(kube: Kube, namespace: string): Promise<{ ready: boolean; detail: string }> {
  const missingCrds = await crdsNotEstablished(kube, SPARK_CRDS);
  if (missingCrds.length) return { ready: false, detail: `CRDs not Established: ${missingCrds.join(', ')}` };
  const deployments = await Promise.all(
    OPERATOR_DEPLOYMENTS.map((name) =>
      kube.get<V1Deployment>({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace } }),
    ),
  );
  const notReady = OPERATOR_DEPLOYMENTS.filter((_, i) => !deployments[i] || !deploymentReady(deployments[i]!));
  if (notReady.length) return { ready: false, detail: `not available: ${notReady.join(', ')}` };
  return { ready: true, detail: 'CRDs Established, controller and webhook available' };
}

function readiness(ctx: PlatformContext): ReadinessDef {
  const namespace = ctx.config.namespaces.sparkOperator;
  return {
    check: (kube) => operatorReadiness(kube, namespace),
    async wait(kube, { signal, report, timeoutMs }) {
      const started = Date.now();
      await waitForCrds(kube, SPARK_CRDS, { timeoutMs, signal, onProgress: report });
      await waitForWorkloads(
        kube,
        { namespace, minimum: OPERATOR_DEPLOYMENTS.length },
        {
          what: 'the Spark operator controller and webhook',
          timeoutMs: Math.max(1_000, timeoutMs - (Date.now() - started)),
          signal,
          onProgress: report,
        },
      );
      const state = await operatorReadiness(kube, namespace);
      if (!state.ready) throw new Error(`Spark operator: ${state.detail}`);
      return state.detail;
    },
  };
}

export const sparkOperator: Component = {
  ...SPARK_OPERATOR,
  title: 'Spark operator',
  enabled: (config) => config.components[COMPONENT_ID]?.enabled !== false,
  steps: (ctx) => [
    releaseStep(ctx, {
      id: COMPONENT_ID,
      title: `Install the Spark operator (watching ${ctx.config.spark.jobNamespaces.join(', ')})`,
      def: sparkOperatorRelease(ctx),
      readiness: readiness(ctx),
    }),
  ],
  async health(ctx, signal) {
    const fresh = await releaseFreshness(ctx, sparkOperatorRelease(ctx), signal);
    if (!fresh.state) return { ok: false, missing: true, detail: 'not installed' };
    if (fresh.state.status !== 'deployed') return { ok: false, detail: `release ${fresh.state.status}` };
    const state = await operatorReadiness(await ctx.kube(), ctx.config.namespaces.sparkOperator);
    const outdated = fresh.upToDate ? '' : ` (${fresh.reason}; \`koala up\` updates it)`;
    return { ok: state.ready, detail: `${fresh.state.chart}: ${state.detail}${outdated}` };
  },
};
