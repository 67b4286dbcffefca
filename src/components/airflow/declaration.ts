import type { KoalaConfig } from '../../config/schema.ts';
import type { PlatformService } from '../component.ts';
import { tcp, type ComponentDeclaration, type PolicyDeclaration } from '../declaration.ts';
import type { LabelSelector } from '../network-policies/matrix.ts';
import { objectStorePeer, objectStoreService } from '../object-store/settings.ts';

const releases = { airflow: 'airflow', postgres: 'koala-postgres' } as const;

/** Airflow's Postgres (a section of koala's chart), as the chart, the policies and the Secrets name it. */
export const POSTGRES = {
  name: 'airflow-postgres',
  database: 'airflow',
  user: 'airflow',
  port: 5432,
  podLabel: { 'app.kubernetes.io/name': 'koala-postgres' },
} as const;

const notPostgres: LabelSelector = {
  matchExpressions: [
    { key: 'app.kubernetes.io/name', operator: 'NotIn', values: [POSTGRES.podLabel['app.kubernetes.io/name']] },
  ],
};

/** Airflow and its Postgres: the UI and REST API, mapped to a host port. */
export const AIRFLOW = {
  id: 'airflow',
  configKey: 'airflow',
  releases,
  namespace: { key: 'airflow', default: 'airflow' },
  hostPorts: { airflow: { default: 8080, nodePort: 30080 } },
  data: true,
  policy: (config: KoalaConfig): PolicyDeclaration => ({
    groups: [
      {
        id: 'airflow',
        title: 'Airflow (api-server, scheduler, dag-processor, triggerer, jobs)',
        kind: 'platform',
        namespaces: [config.namespaces.airflow],
        pods: notPostgres,
        apiServer: true,
      },
      {
        id: 'airflow-postgres',
        title: "Airflow's Postgres",
        kind: 'platform',
        namespaces: [config.namespaces.airflow],
        pods: { matchLabels: { ...POSTGRES.podLabel } },
      },
    ],
    rules: [
      {
        id: 'airflow-to-object-store',
        from: ['airflow'],
        to: objectStorePeer(config),
        ports: tcp(objectStoreService(config).s3Port),
        why: 'the object_store / aws_default connection',
      },
      {
        id: 'airflow-internal',
        from: ['airflow'],
        to: 'airflow',
        ports: tcp(8080, 8793, 8794),
        why: 'task execution API and UI (api-server 8080), task and trigger log servers (8793, 8794)',
      },
      {
        id: 'airflow-postgres',
        from: ['airflow'],
        to: 'airflow-postgres',
        ports: tcp(POSTGRES.port),
        why: 'the metadata database, from Airflow pods only',
      },
    ],
    fromHost: {
      airflow: config.ports.airflow
        ? {
            id: 'host-to-airflow',
            from: ['outside-pods'],
            to: 'airflow',
            ports: tcp(8080),
            why:
              `the host's 127.0.0.1:${config.ports.airflow} (kind port mapping → NodePort)` +
              ' to the Airflow UI and API',
          }
        : undefined,
    },
  }),
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
