import { describe, expect, it } from 'vitest';
import {
  clusterContainers,
  containerRole,
  firstControlPlane,
  isKubernetesNode,
  kubeContext,
  KIND_NETWORK,
  loadBalancerName,
  nodeNames,
} from '../../src/cluster/names.ts';

/** The names kind gives, for each shape: nodes first numbered from the second of a role, then the load balancer. */
const SHAPES: Array<[string, { name: string; controlPlanes: number; workers: number }, string[], string[]]> = [
  ['one node', { name: 'k', controlPlanes: 1, workers: 0 }, ['k-control-plane'], []],
  ['a control plane, a worker', { name: 'dev', controlPlanes: 1, workers: 1 }, ['dev-control-plane', 'dev-worker'], []],
  [
    'the HA default: 3 and 3, behind a load balancer',
    { name: 'koala', controlPlanes: 3, workers: 3 },
    ['koala-control-plane', 'koala-control-plane2', 'koala-control-plane3'].concat([
      'koala-worker',
      'koala-worker2',
      'koala-worker3',
    ]),
    ['koala-external-load-balancer'],
  ],
  [
    '5 control planes, 10 workers (two-digit numbers)',
    { name: 'a.b', controlPlanes: 5, workers: 10 },
    [
      ...['', '2', '3', '4', '5'].map((n) => `a.b-control-plane${n}`),
      ...['', '2', '3', '4', '5', '6', '7', '8', '9', '10'].map((n) => `a.b-worker${n}`),
    ],
    ['a.b-external-load-balancer'],
  ],
];

describe("kind's names", () => {
  it.each(SHAPES)('%s', (_title, shape, nodes, others) => {
    expect(nodeNames(shape)).toEqual(nodes);
    const containers = clusterContainers(shape);
    expect(containers.map((c) => c.name)).toEqual([...nodes, ...others]);
    expect(containers.filter((c) => !c.kubernetesNode).map((c) => c.name)).toEqual(others);
    for (const c of containers) expect(containerRole(shape.name, c.name)).toBe(c.role);
  });

  it('the context, the first control plane, the load balancer and the network', () => {
    expect(kubeContext('dev')).toBe('kind-dev');
    expect(firstControlPlane('dev')).toBe('dev-control-plane');
    expect(loadBalancerName('dev')).toBe('dev-external-load-balancer');
    expect(KIND_NETWORK).toBe('kind');
  });

  const ROLES: Array<[string, string, ReturnType<typeof containerRole>, boolean]> = [
    ['dev', 'dev-control-plane', 'control-plane', true],
    ['dev', 'dev-control-plane2', 'control-plane', true],
    ['dev', 'dev-worker12', 'worker', true],
    ['dev', 'dev-external-load-balancer', 'external-load-balancer', false],
    // kind never numbers the first of a role, nor with a leading zero.
    ['dev', 'dev-worker1', undefined, false],
    ['dev', 'dev-worker02', undefined, false],
    // Another cluster's containers, even when its name starts like this one's.
    ['dev', 'dev2-control-plane', undefined, false],
    ['dev', 'dev-worker-control-plane', undefined, false],
    ['dev-worker', 'dev-worker-control-plane', 'control-plane', true],
    ['dev', 'koala-registry', undefined, false],
  ];
  it.each(ROLES)('in cluster %s, %s is %s (a Kubernetes node: %s)', (cluster, container, role, node) => {
    expect(containerRole(cluster, container)).toBe(role);
    expect(isKubernetesNode(cluster, container)).toBe(node);
  });
});
