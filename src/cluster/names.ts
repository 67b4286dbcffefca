/**
 * kind's naming rules, owned here alone: kind derives every name from the cluster name (the
 * kubeconfig context, each node container, the load balancer in front of several control
 * planes), and koala must derive the same names to find what kind made.
 */

/** The Docker network kind puts every node (and koala's registry) on. */
export const KIND_NETWORK = 'kind';

export type KindNodeRole = 'control-plane' | 'worker';
export type KindContainerRole = KindNodeRole | 'external-load-balancer';

export interface KindContainer {
  name: string;
  role: KindContainerRole;
  /**
   * Runs kubelet and containerd. The load balancer is an haproxy container: `kind get nodes`
   * lists it, but it is no Kubernetes node, has no containerd to configure, and no shell.
   */
  kubernetesNode: boolean;
}

export interface ClusterShape {
  name: string;
  controlPlanes: number;
  workers: number;
}

/** The kubeconfig context kind writes for a cluster. */
export function kubeContext(cluster: string): string {
  return `kind-${cluster}`;
}

/** The n-th container of a role (n from 1): the first has no number, the next ones 2, 3, … */
export function nodeContainerName(cluster: string, role: KindNodeRole, n: number): string {
  return `${cluster}-${role}${n > 1 ? String(n) : ''}`;
}

/** The first control plane: it carries the host port mappings. */
export function firstControlPlane(cluster: string): string {
  return nodeContainerName(cluster, 'control-plane', 1);
}

export function loadBalancerName(cluster: string): string {
  return `${cluster}-external-load-balancer`;
}

/** kind puts a load balancer in front of the API servers only when there are several. */
export function hasLoadBalancer(controlPlanes: number): boolean {
  return controlPlanes > 1;
}

/** Every container kind makes for a cluster of this shape. */
export function clusterContainers(shape: ClusterShape): KindContainer[] {
  const nodes = (role: KindNodeRole, count: number): KindContainer[] =>
    Array.from({ length: count }, (_, i) => ({
      name: nodeContainerName(shape.name, role, i + 1),
      role,
      kubernetesNode: true,
    }));
  return [
    ...nodes('control-plane', shape.controlPlanes),
    ...nodes('worker', shape.workers),
    ...(hasLoadBalancer(shape.controlPlanes)
      ? [{ name: loadBalancerName(shape.name), role: 'external-load-balancer' as const, kubernetesNode: false }]
      : []),
  ];
}

/** The Kubernetes nodes of a cluster of this shape (the load balancer is not one). */
export function nodeNames(shape: ClusterShape): string[] {
  return clusterContainers(shape)
    .filter((c) => c.kubernetesNode)
    .map((c) => c.name);
}

/** What a container of this cluster is, from its name; undefined when kind would not name one so. */
export function containerRole(cluster: string, container: string): KindContainerRole | undefined {
  if (container === loadBalancerName(cluster)) return 'external-load-balancer';
  const prefix = `${cluster}-`;
  if (!container.startsWith(prefix)) return undefined;
  // The first of a role has no number; "1" or a leading zero is never one kind gives.
  const match = /^(control-plane|worker)([2-9]|[1-9]\d+)?$/.exec(container.slice(prefix.length));
  return match ? (match[1] as KindNodeRole) : undefined;
}

/** Whether a container `kind get nodes` lists runs kubelet (and so takes registry config). */
export function isKubernetesNode(cluster: string, container: string): boolean {
  const role = containerRole(cluster, container);
  return role === 'control-plane' || role === 'worker';
}
