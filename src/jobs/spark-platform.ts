import { portForwardTargets } from '../components/endpoints.ts';
import { sparkJobSettings } from '../components/spark-operator/settings.ts';
import type { KoalaConfig } from '../config/schema.ts';

/**
 * What the Spark job loop needs to know about the platform the components install: where jobs
 * may run, as whom, and how they reach the object store and the other services. The one place
 * that asks: it reads the spark-operator and object-store components' exported settings (their
 * contract with the job loop), so a name changed there is changed here.
 */
export interface SparkPlatform {
  /** Namespaces the operator is configured to watch (spark.jobNamespaces); the first is the default. */
  jobNamespaces: string[];
  /** The driver ServiceAccount the chart creates in every job namespace (`<release>-spark`). */
  serviceAccount: string;
  /** Where the operator runs. */
  operatorNamespace: string;
  objectStore: ObjectStoreAccess;
  /** Services `koala port-forward` reaches by name: those the components declare (Component.services). */
  services: Record<string, ServiceRef>;
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
  /** s3a settings for spec.sparkConf (spark.hadoop.fs.s3a.*), without credentials. */
  sparkConf: Record<string, string>;
}

export interface ServiceRef {
  namespace: string;
  name: string;
  port: number;
}

export function sparkPlatform(config: KoalaConfig): SparkPlatform {
  const jobs = sparkJobSettings(config);
  return {
    jobNamespaces: jobs.namespaces,
    serviceAccount: jobs.serviceAccount,
    operatorNamespace: config.namespaces.sparkOperator,
    objectStore: {
      endpoint: jobs.s3Endpoint,
      secretName: jobs.s3Secret,
      accessKeyKey: 'AWS_ACCESS_KEY_ID',
      secretKeyKey: 'AWS_SECRET_ACCESS_KEY',
      bucket: jobs.buckets[0] ?? 'spark-data',
      sparkConf: jobs.sparkConf,
    },
    services: Object.fromEntries(
      Object.entries(portForwardTargets(config)).map(([name, t]) => [
        name,
        { namespace: t.namespace, name: t.service, port: t.port },
      ]),
    ),
  };
}
