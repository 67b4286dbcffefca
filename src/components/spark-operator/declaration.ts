import type { KoalaConfig } from '../../config/schema.ts';
import { tcp, type ComponentDeclaration, type NamespaceRole, type PolicyDeclaration } from '../declaration.ts';
import { objectStorePeer, objectStoreService } from '../object-store/settings.ts';

/** The Spark operator: its own namespace, and the job namespaces it watches (spark.jobNamespaces). */
export const SPARK_OPERATOR = {
  id: 'spark-operator',
  configKey: 'spark-operator',
  releases: { sparkOperator: 'spark-operator' },
  namespace: { key: 'sparkOperator', default: 'spark-operator' },
  // Drivers and executors run in the job namespaces, so those are the platform's too.
  workloadNamespaces: (config: KoalaConfig): NamespaceRole[] => [
    { name: config.namespaces.sparkOperator, role: 'spark-operator' },
    ...config.spark.jobNamespaces.map((name) => ({ name, role: 'spark-jobs' })),
  ],
  data: true,
  policy: (config: KoalaConfig): PolicyDeclaration => ({
    groups: [
      {
        id: 'spark-operator',
        title: 'Spark operator (controller, webhook)',
        kind: 'platform',
        namespaces: [config.namespaces.sparkOperator],
        pods: {},
        apiServer: true,
      },
      {
        id: 'spark-jobs',
        title: 'Spark jobs (drivers, executors)',
        kind: 'platform',
        namespaces: [...config.spark.jobNamespaces],
        pods: {},
        apiServer: true,
      },
    ],
    rules: [
      {
        id: 'webhook',
        from: ['anywhere'],
        to: 'spark-operator',
        ports: tcp(9443),
        why: "the API server calls the operator's admission webhook (from a node address)",
      },
      {
        id: 'spark-internal',
        from: ['spark-jobs'],
        to: 'spark-jobs',
        ports: 'all',
        sameNamespace: true,
        why: 'driver ↔ executors (RPC, block manager, shuffle) within one job namespace',
      },
      {
        id: 'jobs-to-object-store',
        from: ['spark-jobs'],
        to: objectStorePeer(config),
        ports: tcp(objectStoreService(config).s3Port),
        why: 'jobs read and write data over S3',
      },
    ],
  }),
  load: async () => (await import('./index.ts')).sparkOperator,
} as const satisfies ComponentDeclaration;
