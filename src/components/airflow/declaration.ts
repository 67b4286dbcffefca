import type { KoalaConfig } from '../../config/schema.ts';
import type { PlatformService } from '../component.ts';
import type { ComponentDeclaration } from '../declaration.ts';

const releases = { airflow: 'airflow', postgres: 'koala-postgres' } as const;

/** Airflow and its Postgres: the UI and REST API, mapped to a host port. */
export const AIRFLOW = {
  id: 'airflow',
  configKey: 'airflow',
  releases,
  namespace: { key: 'airflow', default: 'airflow' },
  hostPorts: { airflow: { default: 8080, nodePort: 30080 } },
  data: true,
  services: (config: KoalaConfig): PlatformService[] => [
    {
      name: 'airflow',
      namespace: config.namespaces.airflow,
      service: `${releases.airflow}-api-server`,
      port: 8080,
      localPort: config.ports.airflow,
      description: 'Airflow UI and REST API',
    },
  ],
  load: async () => (await import('./index.ts')).airflow,
} as const satisfies ComponentDeclaration;
