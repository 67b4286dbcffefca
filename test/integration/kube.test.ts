/**
 * koala's Kubernetes layer against the real API server: server-side apply, change detection,
 * watch-driven waits (and their deadlines), and API errors in plain words.
 */
import { describe, expect, it } from 'vitest';
import type { V1ConfigMap, V1Deployment } from '@kubernetes/client-node';
import { KubeApiError } from '../../src/kube/client.ts';
import { waitFor } from '../../src/kube/wait.ts';
import { testbedKube, useNamespace } from '../support/testbed.ts';

const ns = useNamespace('kube');

const configMap = (name: string, data: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: ns.name, labels: { 'koala.test/kind': 'cm' } },
  data,
});

describe('Kube (client-node) against the API server', () => {
  it('server-side apply creates, then a same apply changes nothing and a different one updates', async () => {
    const kube = await testbedKube();
    const first: V1ConfigMap = await kube.apply(configMap('applied', { a: '1' }));
    expect(await kube.isApplied(configMap('applied', { a: '1' }))).toBe(true);
    const same: V1ConfigMap = await kube.apply(configMap('applied', { a: '1' }));
    expect(same.metadata?.resourceVersion).toBe(first.metadata?.resourceVersion); // no write happened
    expect(await kube.isApplied(configMap('applied', { a: '2' }))).toBe(false);
    const changed: V1ConfigMap = await kube.apply(configMap('applied', { a: '2' }));
    expect(changed.metadata?.resourceVersion).not.toBe(first.metadata?.resourceVersion);
    const live = await kube.get<V1ConfigMap>({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'applied', namespace: ns.name },
    });
    expect(live?.metadata?.managedFields?.map((f) => f.manager)).toContain('koala');
  });

  it('get returns undefined for what does not exist, and delete of it is not an error', async () => {
    const kube = await testbedKube();
    expect(
      await kube.get({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nope', namespace: ns.name } }),
    ).toBeUndefined();
    expect(
      await kube.delete({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nope', namespace: ns.name } }),
    ).toBe(false);
  });

  it('waitFor follows a watch: it sees an object created after the wait began', async () => {
    const kube = await testbedKube();
    const lines: string[] = [];
    const waiting = waitFor<V1ConfigMap>(kube, {
      path: `/api/v1/namespaces/${ns.name}/configmaps`,
      labelSelector: 'koala.test/kind=late',
      what: 'the late ConfigMap',
      timeoutMs: 30_000,
      onProgress: (l) => lines.push(l),
      until: (items) => ({ done: items.some((i) => i.data?.ready === 'yes'), progress: `${items.length} seen` }),
    });
    await new Promise((r) => setTimeout(r, 500));
    await kube.apply({
      ...configMap('late', { ready: 'no' }),
      metadata: { name: 'late', namespace: ns.name, labels: { 'koala.test/kind': 'late' } },
    });
    await new Promise((r) => setTimeout(r, 300));
    await kube.apply({
      ...configMap('late', { ready: 'yes' }),
      metadata: { name: 'late', namespace: ns.name, labels: { 'koala.test/kind': 'late' } },
    });
    const items = await waiting;
    expect(items.map((i) => i.metadata?.name)).toEqual(['late']);
    expect(lines).toEqual(['0 seen', '1 seen']);
  });

  it('waitFor a Deployment whose pods kwok makes Ready', async () => {
    const kube = await testbedKube();
    await kube.apply({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: ns.name },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'web', image: 'example/web:1' }], tolerations: [{ operator: 'Exists' }] },
        },
      },
    });
    const [deployment] = await waitFor<V1Deployment>(kube, {
      path: `/apis/apps/v1/namespaces/${ns.name}/deployments`,
      fieldSelector: 'metadata.name=web',
      what: 'deployment web to be available',
      timeoutMs: 60_000,
      until: (items) => ({
        done: items[0]?.status?.readyReplicas === 2,
        progress: `${items[0]?.status?.readyReplicas ?? 0}/2 ready`,
      }),
    });
    expect(deployment?.status?.readyReplicas).toBe(2);
  });

  it('a wait that cannot finish ends at its deadline, saying what it waited for and how far it got', async () => {
    const kube = await testbedKube();
    await expect(
      waitFor(kube, {
        path: `/api/v1/namespaces/${ns.name}/configmaps`,
        what: 'a ConfigMap that never comes',
        timeoutMs: 1_500,
        until: (items) => ({ done: false, progress: `${items.length} ConfigMaps, none of them it` }),
      }),
    ).rejects.toThrow(
      /Timed out after 1\.5s waiting for a ConfigMap that never comes \(\d+ ConfigMaps, none of them it\)/,
    );
  });

  it('the API server rejects an invalid object, and the error names the field', async () => {
    const kube = await testbedKube();
    const service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'bad-port', namespace: ns.name },
      spec: { ports: [{ port: 99999 }], selector: { app: 'x' } },
    };
    const error = await kube.apply(service).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KubeApiError);
    expect((error as KubeApiError).status).toBe(422);
    const invalidPort = /spec\.ports\[0\]\.port: Invalid value: 99999: must be between 1 and 65535/;
    expect((error as KubeApiError).message).toMatch(
      new RegExp(String.raw`apply Service .*\/bad-port failed \(422\): .*` + invalidPort.source),
    );
    expect((error as KubeApiError).hint).toMatch(/names the field/);
  });
});
