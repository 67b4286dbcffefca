import { mirrorReference } from '../charts/images.ts';
import { hostPorts } from '../components/host-ports.ts';
import type { HostPortKey } from '../components/index.ts';
import type { KoalaConfig } from '../config/schema.ts';
import { KoalaError, EXIT } from '../util/errors.ts';
import { DEFAULT_KUBERNETES_VERSION, findNodeImage, NEWEST_FOR_CGROUP_V1, supportsCgroupV1 } from './node-images.ts';

/** NodePorts the platform's Services use, as the components declare them; kind maps host ports onto them. */
export const SERVICE_NODE_PORTS = Object.fromEntries(hostPorts().map((p) => [p.key, p.nodePort])) as Readonly<
  Record<HostPortKey, number>
>;
export type ServiceName = HostPortKey;

export interface PortMapping {
  service: ServiceName;
  hostPort: number;
  nodePort: number;
}

/**
 * What defines a cluster: if any of this differs from the running cluster, it must be
 * recreated (kind cannot change nodes or port mappings in place).
 */
export interface ClusterSpec {
  name: string;
  controlPlanes: number;
  workers: number;
  kubernetesVersion: string;
  nodeImage: string;
  portMappings: PortMapping[];
}

export interface ResolvedImage {
  version: string;
  image: string;
  /** Why koala chose a version the user did not ask for. */
  note?: string;
}

/** Pick the node image for the config and the host's cgroup version. */
export function resolveNodeImage(cluster: KoalaConfig['cluster'], cgroupVersion: string | undefined): ResolvedImage {
  if (cluster.nodeImage) {
    const version = /:(v\d+\.\d+\.\d+)(?=[@-]|$)/.exec(cluster.nodeImage)?.[1] ?? cluster.kubernetesVersion;
    if (cluster.nodeImage.includes('@sha256:')) return { version, image: cluster.nodeImage };
    return {
      version,
      image: cluster.nodeImage,
      note: `node image ${cluster.nodeImage} is not pinned by digest: kind uses the image of that name Docker has`,
    };
  }
  const cgroupV1 = cgroupVersion === '1';
  const wanted = findNodeImage(cluster.kubernetesVersion) ?? findNodeImage(DEFAULT_KUBERNETES_VERSION)!;
  if (cgroupV1 && !supportsCgroupV1(wanted.version)) {
    if (cluster.kubernetesVersionPinned) {
      throw new KoalaError(
        `Kubernetes ${wanted.version} cannot run on this host: ` +
          'its Docker uses cgroup v1, and Kubernetes 1.35 and later need cgroup v2',
        {
          hint:
            `Set cluster.kubernetesVersion to ${NEWEST_FOR_CGROUP_V1} (or older) in koala.yaml, ` +
            'or move Docker to cgroup v2.',
          exitCode: EXIT.usage,
        },
      );
    }
    const fallback = findNodeImage(NEWEST_FOR_CGROUP_V1)!;
    return {
      ...fallback,
      note: `Docker uses cgroup v1, which Kubernetes 1.35+ no longer supports: using ${fallback.version}`,
    };
  }
  return { version: wanted.version, image: wanted.image };
}

export function clusterSpec(config: KoalaConfig, image: ResolvedImage): ClusterSpec {
  // In NodePort order (hostPorts), as the spec recorded in a running cluster has them.
  const ports = config.ports as Record<string, number>;
  const portMappings = hostPorts()
    .filter((p) => (ports[p.key] ?? 0) > 0)
    .map((p) => ({ service: p.key as ServiceName, hostPort: ports[p.key]!, nodePort: p.nodePort }));
  return {
    name: config.cluster.name,
    controlPlanes: config.cluster.controlPlanes,
    workers: config.cluster.workers,
    kubernetesVersion: image.version,
    // A node image the user named is used as named; the pinned one goes through the image mirror.
    nodeImage: config.cluster.nodeImage ? image.image : mirrorReference(image.image, config.images.mirror),
    portMappings,
  };
}

/** Human-readable differences between the running cluster's spec and the wanted one. */
export function diffSpecs(current: ClusterSpec, wanted: ClusterSpec): string[] {
  const lines: string[] = [];
  const field = (name: string, a: unknown, b: unknown): void => {
    if (JSON.stringify(a) !== JSON.stringify(b)) lines.push(`${name}: ${format(a)} → ${format(b)}`);
  };
  field('control-plane nodes', current.controlPlanes, wanted.controlPlanes);
  field('worker nodes', current.workers, wanted.workers);
  field('node image', current.nodeImage, wanted.nodeImage);
  field(
    'port mappings',
    current.portMappings.map((p) => `${p.service} 127.0.0.1:${p.hostPort}`),
    wanted.portMappings.map((p) => `${p.service} 127.0.0.1:${p.hostPort}`),
  );
  return lines;
}

function format(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? '(none)' : value.join(', ');
  return String(value);
}
