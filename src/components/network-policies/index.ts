import type { UpStepId } from '../../orchestration/up-order.ts';
import type { V1EndpointSlice, V1NetworkPolicy, V1Service } from '@kubernetes/client-node';
import type { Kube } from '../../kube/client.ts';
import type { PlatformContext } from '../../orchestration/context.ts';
import type { Component } from '../component.ts';
import { NETWORK_POLICIES } from './declaration.ts';
import { anyDataComponent, RELEASES } from '../names.ts';
import { platformChart, releaseFreshness, releaseStep, type ReleaseDef } from '../release.ts';
import type { ApiServerAddress } from './matrix.ts';
import { renderPolicies } from './render.ts';

/**
 * Access limited to the ports the platform uses: default-deny in every platform namespace, then only the
 * paths of the allow matrix (matrix.ts, docs/network-policies.md).
 */

export const COMPONENT_ID = NETWORK_POLICIES.id satisfies UpStepId;

/** The API server as pods reach it: the endpoints behind default/kubernetes and its ClusterIP. */
export async function apiServerAddress(kube: Kube): Promise<ApiServerAddress> {
  const [service, slices] = await Promise.all([
    kube.get<V1Service>({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'kubernetes', namespace: 'default' } }),
    kube.list<V1EndpointSlice>('discovery.k8s.io/v1', 'EndpointSlice', {
      namespace: 'default',
      labelSelector: 'kubernetes.io/service-name=kubernetes',
    }),
  ]);
  const ips = new Set<string>();
  const ports = new Set<number>();
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) for (const address of endpoint.addresses ?? []) ips.add(address);
    for (const port of slice.ports ?? []) if (port.port) ports.add(port.port);
  }
  if (service?.spec?.clusterIP && service.spec.clusterIP !== 'None') ips.add(service.spec.clusterIP);
  for (const port of service?.spec?.ports ?? []) ports.add(port.port);
  return { ips: [...ips].filter((ip) => !ip.includes(':')).sort(), ports: [...ports].sort((a, b) => a - b) };
}

export function networkPoliciesRelease(ctx: PlatformContext): ReleaseDef {
  const values = async (apiServer: ApiServerAddress): Promise<Record<string, unknown>> => ({
    chartDigest: (await platformChart()).digest,
    sections: { networkPolicies: true },
    networkPolicies: renderPolicies(ctx.config, apiServer),
  });
  return {
    release: RELEASES.networkPolicies,
    namespace: ctx.config.namespaces.system,
    chart: platformChart,
    values: async () => values(await apiServerAddress(await ctx.kube())),
    planValues: () => values({ ips: ['192.0.2.1'], ports: [443, 6443] }),
    timeoutSeconds: 120,
  };
}

export const networkPolicies: Component = {
  ...NETWORK_POLICIES,
  title: 'Network policies',
  enabled: (config) => anyDataComponent(config) && config.networkPolicies.enabled,
  steps: (ctx) => [
    releaseStep(ctx, {
      id: COMPONENT_ID,
      title: 'Deny by default and allow only the documented paths (NetworkPolicies)',
      def: networkPoliciesRelease(ctx),
    }),
  ],
  async health(ctx, signal) {
    const fresh = await releaseFreshness(ctx, networkPoliciesRelease(ctx), signal);
    if (!fresh.state) return { ok: false, missing: true, detail: 'not installed' };
    const kube = await ctx.kube();
    const count = (
      await kube.list<V1NetworkPolicy>('networking.k8s.io/v1', 'NetworkPolicy', {
        labelSelector: 'koala.dev/section=network-policies',
      })
    ).length;
    return {
      ok: fresh.upToDate,
      detail: `${count} policies${fresh.upToDate ? '' : ` (${fresh.reason}; \`koala up\` updates them)`}`,
    };
  },
};
