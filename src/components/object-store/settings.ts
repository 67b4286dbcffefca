import type { KoalaConfig } from '../../config/schema.ts';

/**
 * Where the object store is, for whoever talks to it: Spark jobs, Airflow, the bucket job,
 * `koala port-forward`. koala speaks plain S3 (endpoint, keys, path-style), so the backend
 * (MinIO or SeaweedFS) can be swapped in koala.yaml without touching a job.
 */

export type ObjectStoreType = KoalaConfig['objectStore']['type'];

export interface ObjectStoreService {
  type: ObjectStoreType;
  namespace: string;
  /** Helm release (and chart key in pins.yaml). */
  release: string;
  /** The Service with the S3 API. */
  service: string;
  s3Port: number;
  /** The Service and port of the web console (MinIO console; SeaweedFS filer UI). */
  consoleService: string;
  consolePort: number;
  /** The store's Deployment. */
  workload: string;
  /** Labels of the store's pods, for NetworkPolicies and readiness. */
  podLabels: Record<string, string>;
  /** Every port the store listens on inside its namespace. */
  ports: number[];
}

/** S3 needs a region even when the store ignores it (koala.yaml objectStore.region, default us-east-1). */
export function s3Region(config: KoalaConfig): string {
  return config.objectStore.region;
}

export function objectStoreService(config: KoalaConfig): ObjectStoreService {
  const namespace = config.namespaces.objectStore;
  if (config.objectStore.type === 'external') {
    // Nothing is installed: the namespace holds the credentials and the bucket job, which
    // reach the endpoint like every other client.
    const url = new URL(externalEndpoint(config));
    return {
      type: 'external',
      namespace,
      release: '',
      workload: '',
      service: url.hostname,
      s3Port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80),
      consoleService: '',
      consolePort: 0,
      podLabels: {},
      ports: [],
    };
  }
  if (config.objectStore.type === 'seaweedfs') {
    // The official chart's all-in-one mode: master, volume, filer and S3 in one pod.
    return {
      type: 'seaweedfs',
      namespace,
      release: 'seaweedfs',
      workload: 'seaweedfs-all-in-one',
      service: 'seaweedfs-all-in-one',
      s3Port: 8333,
      consoleService: 'seaweedfs-all-in-one',
      consolePort: 8888,
      podLabels: { 'app.kubernetes.io/name': 'seaweedfs', 'app.kubernetes.io/component': 'seaweedfs-all-in-one' },
      ports: [9333, 19333, 8080, 18080, 8888, 18888, 8333],
    };
  }
  // The community chart names everything after the release when the release is "minio".
  return {
    type: 'minio',
    namespace,
    release: 'minio',
    workload: 'minio',
    service: 'minio',
    s3Port: 9000,
    consoleService: 'minio-console',
    consolePort: 9001,
    podLabels: { app: 'minio', release: 'minio' },
    ports: [9000, 9001],
  };
}

/** The S3 endpoint as pods see it. */
export function objectStoreEndpoint(config: KoalaConfig): string {
  if (config.objectStore.type === 'external') return externalEndpoint(config);
  const s = objectStoreService(config);
  return `http://${s.service}.${s.namespace}.svc.cluster.local:${s.s3Port}`;
}

/** The network-policy group clients open their S3 connections to: the store's pods, or the external addresses. */
export function objectStorePeer(config: KoalaConfig): string {
  return config.objectStore.type === 'external' ? 'object-store-external' : 'object-store';
}

function externalEndpoint(config: KoalaConfig): string {
  // The config check makes endpoint required for the external type.
  return (config.objectStore.endpoint ?? '').replace(/\/$/, '');
}
