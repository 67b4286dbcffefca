import type { KoalaConfig } from '../../config/schema.ts';
import type { ComponentDeclaration, NamespaceRole } from '../declaration.ts';

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
  load: async () => (await import('./index.ts')).sparkOperator,
} as const satisfies ComponentDeclaration;
