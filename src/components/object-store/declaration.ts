import type { KoalaConfig } from '../../config/schema.ts';
import type { PlatformService } from '../component.ts';
import { KIND_POD_SUBNET, tcp, type ComponentDeclaration, type PolicyDeclaration } from '../declaration.ts';
import { objectStorePeer, objectStoreService } from './settings.ts';

/**
 * On the namespace of tasks and pipelines that ask for storage (`koala tasks deploy`,
 * `koala pipelines deploy` set it): its pods may reach the store's S3 API.
 */
export const STORAGE_CLIENT_LABEL = 'koala.dev/object-store-client';

/** The object store (MinIO or SeaweedFS): its S3 API and console, mapped to host ports. */
export const OBJECT_STORE = {
  id: 'object-store',
  configKey: 'object-store',
  // The release is named after the backend (objectStoreService), so it is not listed here.
  namespace: { key: 'objectStore', default: 'object-store' },
  hostPorts: {
    objectStore: { default: 9000, nodePort: 30900 },
    objectStoreConsole: { default: 9001, nodePort: 30901 },
  },
  data: true,
  policy(config: KoalaConfig): PolicyDeclaration {
    const store = objectStoreService(config);
    if (store.type === 'external') return externalStorePolicy(config);
    // kind maps the host ports to NodePorts only koala's MinIO values set.
    const mapped = (port: number): boolean => port > 0 && store.type === 'minio';
    return {
      groups: [
        {
          id: 'object-store',
          title: `Object store (${store.type}, bucket job)`,
          kind: 'platform',
          namespaces: [store.namespace],
          pods: {},
        },
        {
          id: 'storage-clients',
          title: 'Tasks and pipelines with `storage: true`, in namespaces koala labels when it deploys them',
          kind: 'labelled-namespaces',
          namespaceLabels: { [STORAGE_CLIENT_LABEL]: 'true' },
          pods: {},
        },
      ],
      rules: [
        {
          id: 'object-store-internal',
          from: ['object-store'],
          to: 'object-store',
          ports: 'all',
          sameNamespace: true,
          why: "the store's own parts (SeaweedFS master, volume, filer) and the bucket job",
        },
        {
          id: 'storage-clients-to-object-store',
          from: ['storage-clients'],
          to: 'object-store',
          ports: tcp(store.s3Port),
          why: 'tasks and pipelines that ask for storage read and write over S3',
        },
      ],
      fromHost: {
        objectStore: mapped(config.ports.objectStore)
          ? {
              id: 'host-to-object-store',
              from: ['outside-pods'],
              to: 'object-store',
              ports: tcp(store.s3Port),
              why: `the host's 127.0.0.1:${config.ports.objectStore} (kind port mapping → NodePort) to the S3 API`,
            }
          : undefined,
        objectStoreConsole: mapped(config.ports.objectStoreConsole)
          ? {
              id: 'host-to-object-store-console',
              from: ['outside-pods'],
              to: 'object-store',
              ports: tcp(store.consolePort),
              why:
                `the host's 127.0.0.1:${config.ports.objectStoreConsole} (kind port mapping → NodePort)` +
                ' to the console',
            }
          : undefined,
      },
    };
  },
  services(config: KoalaConfig): PlatformService[] {
    const store = objectStoreService(config);
    // An external store is reached at its own endpoint; there is no Service to forward.
    if (store.type === 'external') return [];
    return [
      {
        name: 'object-store',
        namespace: store.namespace,
        service: store.service,
        port: store.s3Port,
        localPort: config.ports.objectStore,
        description: `${store.type} S3 API`,
      },
      {
        name: 'object-store-console',
        namespace: store.namespace,
        service: store.consoleService,
        port: store.consolePort,
        localPort: config.ports.objectStoreConsole,
        description: store.type === 'minio' ? 'MinIO console' : 'SeaweedFS filer UI',
      },
    ];
  },
  load: async () => (await import('./index.ts')).objectStore,
} as const satisfies ComponentDeclaration;

/**
 * An external store: the bucket job is the namespace's only pod, and every S3 client (it, Spark
 * jobs, Airflow) may open connections to the endpoint's port at objectStore.egressCidrs, or,
 * when those are not given, at any address outside the pod network (a host name's addresses are
 * not known to a NetworkPolicy, and may change).
 */
function externalStorePolicy(config: KoalaConfig): PolicyDeclaration {
  const store = objectStoreService(config);
  const cidrs = config.objectStore.egressCidrs;
  return {
    groups: [
      {
        id: 'object-store',
        title: 'Object store namespace (the bucket job of the external store)',
        kind: 'platform',
        namespaces: [store.namespace],
        pods: {},
      },
      {
        id: objectStorePeer(config),
        title:
          `The external S3 endpoint ${config.objectStore.endpoint ?? ''} ` +
          (cidrs.length > 0 ? '(objectStore.egressCidrs)' : '(any address outside the pod network)'),
        kind: 'addresses',
        cidrs: cidrs.length > 0 ? [...cidrs] : ['0.0.0.0/0'],
        ...(cidrs.length > 0 ? {} : { except: [KIND_POD_SUBNET] }),
      },
    ],
    rules: [
      {
        id: 'buckets-to-external-store',
        from: ['object-store'],
        to: objectStorePeer(config),
        ports: tcp(store.s3Port),
        why: 'the bucket job creates the buckets on the external store',
      },
    ],
  };
}
