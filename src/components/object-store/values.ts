import { imageFor, registryRepositoryTag } from '../../charts/images.ts';
import { splitImage, type Pins } from '../../charts/pins.ts';
import type { KoalaConfig } from '../../config/schema.ts';
import { SECRETS } from '../names.ts';
import { OBJECT_STORE } from './declaration.ts';

/** Helm values for the two object stores, laptop-sized. Credentials come from the Secret koala creates. */

/** A NodePort when koala.yaml maps a host port to it (kind maps 127.0.0.1:<port> to the node port). */
function service(port: string, hostPort: number, nodePort: number): Record<string, unknown> {
  return hostPort ? { type: 'NodePort', port, nodePort } : { type: 'ClusterIP', port };
}

export function minioValues(config: KoalaConfig, pins: Pins): Record<string, unknown> {
  const image = splitImage(imageFor(config, pins, 'minio'));
  const mc = splitImage(imageFor(config, pins, 'mc'));
  return {
    // The chart's default is 16 replicas in distributed mode with 16Gi requested each.
    mode: 'standalone',
    replicas: 1,
    image: { ...image, pullPolicy: 'IfNotPresent' },
    mcImage: { ...mc, pullPolicy: 'IfNotPresent' },
    existingSecret: SECRETS.objectStoreRoot,
    // The chart's defaults create a "console" user with a fixed password; koala creates none.
    users: [],
    buckets: [],
    policies: [],
    persistence: { enabled: true, size: '10Gi' },
    resources: { requests: { cpu: '100m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    service: service('9000', config.ports.objectStore, OBJECT_STORE.hostPorts.objectStore.nodePort),
    consoleService: service(
      '9001',
      config.ports.objectStoreConsole,
      OBJECT_STORE.hostPorts.objectStoreConsole.nodePort,
    ),
  };
}

export function seaweedfsValues(config: KoalaConfig, pins: Pins): Record<string, unknown> {
  return {
    image: registryRepositoryTag(imageFor(config, pins, 'seaweedfs')),
    // One pod (master, volume, filer and S3) instead of four StatefulSets.
    master: { enabled: false },
    volume: { enabled: false },
    filer: { enabled: false },
    s3: { enabled: false },
    allInOne: {
      enabled: true,
      s3: { enabled: true, enableAuth: true, existingConfigSecret: SECRETS.objectStoreRoot },
      data: { type: 'persistentVolumeClaim', size: '10Gi' },
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
    },
  };
}

export function objectStoreValues(config: KoalaConfig, pins: Pins): Record<string, unknown> {
  return config.objectStore.type === 'seaweedfs' ? seaweedfsValues(config, pins) : minioValues(config, pins);
}
