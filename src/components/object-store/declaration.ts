import type { KoalaConfig } from '../../config/schema.ts';
import type { PlatformService } from '../component.ts';
import type { ComponentDeclaration } from '../declaration.ts';
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
