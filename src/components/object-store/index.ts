import type { UpStepId } from '../../orchestration/up-order.ts';
import { imageFor } from '../../charts/images.ts';
import { chartFor, loadPins } from '../../charts/pins.ts';
import { namedWorkloadsReadiness, waitForWorkloads } from '../../kube/readiness.ts';
import type { PlatformContext } from '../../orchestration/context.ts';
import type { Component, Health } from '../component.ts';
import { OBJECT_STORE } from './declaration.ts';
import { pinnedChart, releaseFreshness, releaseStep, withOverrides, type ReleaseDef } from '../release.ts';
import { bucketsHealth, bucketsStep } from './buckets.ts';
import { objectStoreEndpoint, objectStoreService } from './settings.ts';
import { objectStoreValues } from './values.ts';

/**
 * The object store: MinIO (the default; the last community image, pinned by digest, with
 * the last community chart in standalone mode) or SeaweedFS (its official chart, all-in-one),
 * chosen with objectStore.type. Spark jobs and Airflow reach it through plain S3.
 */

export const COMPONENT_ID = OBJECT_STORE.id satisfies UpStepId;

export function objectStoreRelease(ctx: PlatformContext): ReleaseDef {
  const store = objectStoreService(ctx.config);
  const backend = store.type;
  if (backend === 'external') throw new Error('an external object store has no Helm release');
  return {
    release: store.release,
    namespace: store.namespace,
    chart: async () => pinnedChart(ctx, chartFor(await loadPins(), backend, ctx.config, COMPONENT_ID)),
    values: async () => withOverrides(ctx, COMPONENT_ID, objectStoreValues(ctx.config, await loadPins())),
    timeoutSeconds: ctx.config.timeouts.componentSeconds,
    progressNamespace: store.namespace,
  };
}

export const objectStore: Component = {
  ...OBJECT_STORE,
  title: 'Object store',
  enabled: (config) => config.components[COMPONENT_ID]?.enabled !== false,
  steps(ctx) {
    const store = objectStoreService(ctx.config);
    const image = async (): Promise<string> => imageFor(ctx.config, await loadPins(), 'mc');
    // An external store is not installed: its step makes the buckets there, through its endpoint.
    if (store.type === 'external') return [bucketsStep(ctx, image, COMPONENT_ID)];
    return [
      releaseStep(ctx, {
        id: COMPONENT_ID,
        title: `Install the object store (${store.type}) in ${store.namespace}`,
        def: objectStoreRelease(ctx),
        readiness: {
          check: (kube) => namedWorkloadsReadiness(kube, store.namespace, [store.workload]),
          async wait(kube, { signal, report, timeoutMs }) {
            await waitForWorkloads(
              kube,
              { namespace: store.namespace },
              { what: `the ${store.type} object store`, timeoutMs, signal, onProgress: report },
            );
            const state = await namedWorkloadsReadiness(kube, store.namespace, [store.workload]);
            if (!state.ready) throw new Error(`${store.type}: ${state.detail}`);
            return `${store.type} ${state.detail}`;
          },
        },
      }),
      bucketsStep(ctx, image),
    ];
  },
  async health(ctx, signal) {
    const store = objectStoreService(ctx.config);
    if (store.type === 'external') return externalStoreHealth(ctx);
    const fresh = await releaseFreshness(ctx, objectStoreRelease(ctx), signal);
    if (!fresh.state) return { ok: false, missing: true, detail: `${store.type} not installed` };
    if (fresh.state.status !== 'deployed') return { ok: false, detail: `release ${fresh.state.status}` };
    const ready = await namedWorkloadsReadiness(await ctx.kube(), store.namespace, [store.workload]);
    return { ok: ready.ready, detail: `${fresh.state.chart} at ${objectStoreEndpoint(ctx.config)}: ${ready.detail}` };
  },
  endpoints(ctx) {
    if (ctx.config.objectStore.type === 'external') {
      return [
        {
          name: 'Object store S3 API (external)',
          url: objectStoreEndpoint(ctx.config),
          credentials: 'koala credentials',
        },
      ];
    }
    const targets = {
      'object-store': { localPort: ctx.config.ports.objectStore },
      'object-store-console': { localPort: ctx.config.ports.objectStoreConsole },
    };
    const store = objectStoreService(ctx.config);
    // kind maps the host ports to NodePorts only koala's MinIO values set.
    const url = (port: number): string =>
      port && store.type === 'minio' ? `http://127.0.0.1:${port}` : '(through port-forward)';
    return [
      {
        name: `Object store S3 API (${store.type})`,
        url: url(targets['object-store'].localPort),
        portForward: 'koala port-forward object-store',
        credentials: 'koala credentials',
      },
      {
        name: `Object store console (${store.type})`,
        url: url(targets['object-store-console'].localPort),
        portForward: 'koala port-forward object-store-console',
        credentials: 'koala credentials',
      },
    ];
  },
};

/**
 * Nothing of an external store runs in the cluster; what koala can vouch for is that its bucket
 * job, a pod on the cluster's network with the platform's credentials, reached the endpoint
 * and made the buckets.
 */
async function externalStoreHealth(ctx: PlatformContext): Promise<Health> {
  const endpoint = objectStoreEndpoint(ctx.config);
  const buckets = await bucketsHealth(ctx);
  return { ...buckets, detail: `external at ${endpoint}: ${buckets.detail}` };
}
