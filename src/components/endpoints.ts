import type { KoalaConfig } from '../config/schema.ts';
import { objectStoreService } from './object-store/settings.ts';
import { RELEASES } from './platform/names.ts';

/**
 * What `koala port-forward <name>` reaches: the Service, its port, and the host port from
 * koala.yaml (ports.*). The job loop's port-forward command reads this table.
 */
export interface PortForwardTarget {
  namespace: string;
  service: string;
  port: number;
  /** 127.0.0.1:<localPort> on the host. */
  localPort: number;
  description: string;
}

export type PortForwardName = 'airflow' | 'object-store' | 'object-store-console';

export function portForwardTargets(config: KoalaConfig): Record<PortForwardName, PortForwardTarget> {
  const store = objectStoreService(config);
  return {
    airflow: { namespace: config.namespaces.airflow, service: `${RELEASES.airflow}-api-server`, port: 8080, localPort: config.ports.airflow, description: 'Airflow UI and REST API' },
    'object-store': { namespace: store.namespace, service: store.service, port: store.s3Port, localPort: config.ports.objectStore, description: `${store.type} S3 API` },
    'object-store-console': { namespace: store.namespace, service: store.consoleService, port: store.consolePort, localPort: config.ports.objectStoreConsole, description: store.type === 'minio' ? 'MinIO console' : 'SeaweedFS filer UI' },
  };
}
