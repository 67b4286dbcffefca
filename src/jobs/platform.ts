import type { KoalaConfig } from '../config/schema.ts';

/**
 * What the Spark job loop needs to know about the platform the components install: where jobs
 * may run, as whom, and how they reach the object store and the other services.
 *
 * This is the one place that knows. Until src/components/spark-operator and
 * src/components/object-store export these facts, they are derived here from koala.yaml and
 * the charts' naming rules; then this function just reads theirs.
 */
export interface SparkPlatform {
  /** Namespaces the operator is configured to watch (spark.jobNamespaces). */
  jobNamespaces: string[];
  /** The driver ServiceAccount the chart creates in every job namespace (`<release>-spark`). */
  serviceAccount: string;
  /** Where the operator runs, to look up what it really watches. */
  operatorNamespace: string;
  objectStore: ObjectStoreAccess;
  /** Services `koala port-forward` reaches by name. */
  services: Record<'airflow' | 'object-store' | 'object-store-console', ServiceRef>;
}

export interface ObjectStoreAccess {
  /** S3 endpoint as pods see it. */
  endpoint: string;
  /** Secret in each job namespace holding the access keys; its keys are below. */
  secretName: string;
  accessKeyKey: string;
  secretKeyKey: string;
  /** The first bucket koala creates: where the example app writes. */
  bucket: string;
}

export interface ServiceRef {
  namespace: string;
  name: string;
  port: number;
}

/** The Helm release name koala installs the operator under; the chart derives names from it. */
export const SPARK_OPERATOR_RELEASE = 'spark-operator';

export function sparkPlatform(config: KoalaConfig): SparkPlatform {
  const objectStoreNamespace = 'object-store';
  const objectStoreService = config.objectStore.type === 'minio' ? 'minio' : 'seaweedfs-s3';
  return {
    jobNamespaces: config.spark.jobNamespaces,
    serviceAccount: `${SPARK_OPERATOR_RELEASE}-spark`,
    operatorNamespace: 'spark-operator',
    objectStore: {
      endpoint: `http://${objectStoreService}.${objectStoreNamespace}.svc.cluster.local:9000`,
      secretName: 'koala-object-store',
      accessKeyKey: 'AWS_ACCESS_KEY_ID',
      secretKeyKey: 'AWS_SECRET_ACCESS_KEY',
      bucket: config.objectStore.buckets[0] ?? 'spark-data',
    },
    services: {
      airflow: { namespace: 'airflow', name: 'airflow-api-server', port: 8080 },
      'object-store': { namespace: objectStoreNamespace, name: objectStoreService, port: 9000 },
      'object-store-console': { namespace: objectStoreNamespace, name: `${objectStoreService}-console`, port: 9001 },
    },
  };
}
