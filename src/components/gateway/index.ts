import type { V1Deployment } from '@kubernetes/client-node';
import { imageFor } from '../../charts/images.ts';
import { loadPins } from '../../charts/pins.ts';
import type { KoalaConfig } from '../../config/schema.ts';
import type { Step } from '../../engine/step.ts';
import { deploymentReady, workloadsReadiness } from '../../kube/readiness.ts';
import type { PlatformContext } from '../../orchestration/context.ts';
import type { UpStepId } from '../../orchestration/up-order.ts';
import type { Component } from '../component.ts';
import { anyDataComponent } from '../names.ts';
import { GATEWAY, GATEWAY_DECLARATION } from './declaration.ts';
import { configSecret, gatewayDeployment, gatewayService, ingressClass } from './objects.ts';
import { desiredGateway, liveRoutes, syncGateway } from './sync.ts';

export { GATEWAY };

export async function gatewayImage(config: KoalaConfig): Promise<string> {
  return imageFor(config, await loadPins(), 'gateway');
}

/** On unless switched off; its namespace comes from koala's own chart, which runs for the data components. */
export const gatewayEnabled = (config: KoalaConfig): boolean =>
  config.components.gateway?.enabled !== false && anyDataComponent(config);

function gatewayStep(ctx: PlatformContext): Step {
  const namespace = ctx.config.namespaces.gateway;
  return {
    id: 'gateway' satisfies UpStepId,
    title: `Install the gateway (Caddy) in ${namespace}`,
    plan: async () => {
      const image = await gatewayImage(ctx.config);
      const secret = configSecret(ctx.config, '');
      const placeholder = {
        ...secret,
        metadata: { ...secret.metadata, annotations: { [GATEWAY.configHashAnnotation]: '<config hash>' } },
        data: { 'caddy.json': '<Caddy JSON: the routes of the Ingresses of class koala>' },
      };
      return [
        ingressClass(ctx.config),
        placeholder,
        gatewayDeployment(ctx.config, image, '<config hash>'),
        gatewayService(ctx.config),
      ].map((manifest) => ({ kind: 'manifest' as const, manifest }));
    },
    async check() {
      const kube = await ctx.kube();
      const desired = await desiredGateway(kube, ctx.config, await gatewayImage(ctx.config));
      if (desired.newGroups.length > 0) return { done: false, reason: 'an access group has no credentials yet' };
      for (const object of desired.objects)
        if (!(await kube.isApplied(object)))
          return { done: false, reason: `${object.kind} ${object.metadata.name} differs` };
      const ready = await workloadsReadiness(kube, { namespace, labelSelector: GATEWAY.podSelector });
      return ready.ready
        ? { done: true, detail: routesDetail(desired.routes.length) }
        : { done: false, reason: ready.detail };
    },
    async run({ signal, report }) {
      const kube = await ctx.kube();
      const result = await syncGateway(kube, ctx.config, await gatewayImage(ctx.config), {
        signal,
        report,
        timeoutMs: ctx.config.timeouts.componentSeconds * 1000,
      });
      return routesDetail(result.routes.length);
    },
  };
}

const routesDetail = (n: number): string => `${n} published service${n === 1 ? '' : 's'}`;

export const gateway: Component = {
  ...GATEWAY_DECLARATION,
  title: 'Gateway',
  enabled: gatewayEnabled,
  steps: (ctx) => [gatewayStep(ctx)],
  async health(ctx) {
    const kube = await ctx.kube();
    const deployment = await kube.get<V1Deployment>({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: GATEWAY.deployment, namespace: ctx.config.namespaces.gateway },
    });
    if (!deployment) return { ok: false, missing: true, detail: 'not installed' };
    const { routes, skipped } = await liveRoutes(kube, ctx.config);
    const conflicts = skipped.length > 0 ? `; not served: ${skipped.join(', ')}` : '';
    return deploymentReady(deployment)
      ? { ok: true, detail: `Caddy ready, ${routesDetail(routes.length)}${conflicts}` }
      : { ok: false, detail: `Caddy not ready (${deployment.status?.availableReplicas ?? 0} available)` };
  },
  endpoints(ctx) {
    const port = ctx.config.ports.gateway;
    return [
      {
        name: 'Gateway (published services)',
        url: port > 0 ? `http://127.0.0.1:${port}/` : '',
        ...(port > 0 ? {} : { portForward: 'koala port-forward gateway' }),
        credentials: 'koala credentials (one user per access group)',
      },
    ];
  },
};
