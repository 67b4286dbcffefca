import { describe, expect, it } from 'vitest';
import type { V1Node } from '@kubernetes/client-node';
import { notReadyNodes } from '../../src/cluster/steps.ts';
import { renderKindConfig, loadKindTemplate } from '../../src/cluster/kind-config.ts';
import { NODE_IMAGES } from '../../src/cluster/node-images.ts';
import { clusterSpec, diffSpecs, resolveNodeImage } from '../../src/cluster/spec.ts';
import { defaultConfig, type KoalaConfig } from '../../src/config/schema.ts';

function config(patch: (c: KoalaConfig) => void = () => {}): KoalaConfig {
  const c = defaultConfig('/project');
  patch(c);
  return c;
}

describe('kind config', () => {
  it('renders the default HA layout: 3 control planes and 3 workers, every node on the pinned image', async () => {
    const c = config();
    const spec = clusterSpec(c, resolveNodeImage(c.cluster, '2'));
    const rendered = renderKindConfig(spec, await loadKindTemplate()) as {
      kind: string;
      apiVersion: string;
      name: string;
      nodes: Array<{ role: string; image: string; extraPortMappings?: unknown[]; labels?: Record<string, string> }>;
      networking: Record<string, unknown>;
    };
    expect(rendered.kind).toBe('Cluster');
    expect(rendered.apiVersion).toBe('kind.x-k8s.io/v1alpha4');
    expect(rendered.name).toBe('koala');
    expect(rendered.nodes.map((n) => n.role)).toEqual([
      'control-plane',
      'control-plane',
      'control-plane',
      'worker',
      'worker',
      'worker',
    ]);
    for (const node of rendered.nodes) expect(node.image).toMatch(/^kindest\/node:v1\.37\.0@sha256:[0-9a-f]{64}$/);
    expect(rendered.networking).toMatchObject({ disableDefaultCNI: false, apiServerAddress: '127.0.0.1' });
    expect(rendered.nodes[3]!.labels).toEqual({ 'koala.dev/pool': 'workloads' });
  });

  it('maps the service host ports on 127.0.0.1 onto NodePorts of the first control plane only', async () => {
    const c = config((x) => {
      x.ports = { airflow: 18080, objectStore: 0, objectStoreConsole: 19001, gateway: 0 };
    });
    const rendered = renderKindConfig(clusterSpec(c, resolveNodeImage(c.cluster, '2')), await loadKindTemplate()) as {
      nodes: Array<{ extraPortMappings?: unknown[] }>;
    };
    expect(rendered.nodes[0]!.extraPortMappings).toEqual([
      { containerPort: 30080, hostPort: 18080, listenAddress: '127.0.0.1', protocol: 'TCP' },
      { containerPort: 30901, hostPort: 19001, listenAddress: '127.0.0.1', protocol: 'TCP' },
    ]);
    expect(rendered.nodes.slice(1).every((n) => n.extraPortMappings === undefined)).toBe(true);
  });

  it('follows the configured node counts and version', async () => {
    const c = config((x) => {
      x.cluster.controlPlanes = 1;
      x.cluster.workers = 0;
      x.cluster.kubernetesVersion = 'v1.35.8';
      x.cluster.kubernetesVersionPinned = true;
    });
    const rendered = renderKindConfig(clusterSpec(c, resolveNodeImage(c.cluster, '2')), await loadKindTemplate()) as {
      nodes: Array<{ role: string; image: string }>;
    };
    expect(rendered.nodes).toHaveLength(1);
    expect(rendered.nodes[0]!.image).toBe(NODE_IMAGES.find((n) => n.version === 'v1.35.8')!.image);
  });
});

describe('node image and cgroups', () => {
  it('picks the newest image that runs on a cgroup v1 host when the user chose none, and says why', () => {
    const image = resolveNodeImage(config().cluster, '1');
    expect(image.version).toBe('v1.34.11');
    expect(image.note).toMatch(/cgroup v1.*1\.35\+.*using v1\.34\.11/);
  });

  it('stops with the reason when the user pinned a version cgroup v1 cannot run', () => {
    const c = config((x) => {
      x.cluster.kubernetesVersion = 'v1.36.4';
      x.cluster.kubernetesVersionPinned = true;
    });
    expect(() => resolveNodeImage(c.cluster, '1')).toThrow(
      /Kubernetes v1\.36\.4 cannot run on this host: its Docker uses cgroup v1/,
    );
  });

  it('uses an explicit nodeImage as given', () => {
    const c = config((x) => {
      x.cluster.nodeImage = `example/node:v1.36.9@sha256:${'a'.repeat(64)}`;
    });
    expect(resolveNodeImage(c.cluster, '2')).toEqual({ version: 'v1.36.9', image: c.cluster.nodeImage });
  });

  it('accepts a local node image by name, with a note that it is not pinned', () => {
    const c = config((x) => {
      x.cluster.nodeImage = 'koala-test/kind-node:v1.34.11-0123456789ab';
    });
    expect(resolveNodeImage(c.cluster, '1')).toEqual({
      version: 'v1.34.11',
      image: 'koala-test/kind-node:v1.34.11-0123456789ab',
      note:
        'node image koala-test/kind-node:v1.34.11-0123456789ab is not pinned by digest: ' +
        'kind uses the image of that name Docker has',
    });
  });
});

describe('cluster spec diff', () => {
  it('lists what changed in words', () => {
    const a = clusterSpec(config(), resolveNodeImage(config().cluster, '2'));
    const b = clusterSpec(
      config((x) => {
        x.cluster.workers = 1;
        x.ports.airflow = 0;
      }),
      resolveNodeImage(config().cluster, '1'),
    );
    expect(diffSpecs(a, b)).toEqual([
      'worker nodes: 3 → 1',
      `node image: ${a.nodeImage} → ${b.nodeImage}`,
      'port mappings: airflow 127.0.0.1:8080, gateway 127.0.0.1:8000, objectStore 127.0.0.1:9000,' +
        ' objectStoreConsole 127.0.0.1:9001 → gateway 127.0.0.1:8000, objectStore 127.0.0.1:9000,' +
        ' objectStoreConsole 127.0.0.1:9001',
    ]);
    expect(diffSpecs(a, a)).toEqual([]);
  });
});

describe('notReadyNodes, the wait for Ready nodes says which node and why', () => {
  const node = (name: string, ready?: { status: string; reason?: string; message?: string }): V1Node => ({
    metadata: { name },
    status: { conditions: ready ? [{ type: 'Ready', ...ready }] : [] },
  });
  it.each([
    { nodes: [node('a', { status: 'True' })], want: '' },
    {
      nodes: [
        node('a', { status: 'True' }),
        node('b', { status: 'False', reason: 'KubeletNotReady', message: 'cni plugin not initialized' }),
      ],
      want: 'b (KubeletNotReady: cni plugin not initialized)',
    },
    { nodes: [node('c')], want: 'c' },
    { nodes: [node('d', { status: 'Unknown', reason: 'NodeStatusUnknown' })], want: 'd (NodeStatusUnknown)' },
    {
      nodes: [node('e', { status: 'False', message: 'x'.repeat(400) })],
      want: `e (${'x'.repeat(157)}...)`,
    },
  ])('$want', ({ nodes, want }) => {
    expect(notReadyNodes(nodes)).toBe(want);
  });
});
