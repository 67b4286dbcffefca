import type { KoalaConfig } from '../../config/schema.ts';
import type { PlatformService } from '../component.ts';
import { tcp, type ComponentDeclaration, type PolicyDeclaration } from '../declaration.ts';
import { objectStoreService } from './settings.ts';

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
