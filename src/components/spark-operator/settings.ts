import type { KoalaConfig } from '../../config/schema.ts';
import { objectStoreEndpoint, s3Region } from '../object-store/settings.ts';
import { RELEASES, SECRETS } from '../names.ts';

/**
 * What a SparkApplication needs from the platform: the namespaces the operator watches, the
 * driver's ServiceAccount, the object store's endpoint and credentials (as a Secret in each
 * job namespace) and the s3a settings. This is the contract with the job loop (koala new /
 * build / run): it renders SparkApplications from these values and nothing else.
 */

/** The chart creates `<release>-spark` in every job namespace, with the driver's Role. */
export const SPARK_SERVICE_ACCOUNT = `${RELEASES.sparkOperator}-spark`;

export const SPARK_CRDS = [
  'sparkapplications.sparkoperator.k8s.io',
  'scheduledsparkapplications.sparkoperator.k8s.io',
] as const;

export interface SparkJobSettings {
  /** Namespaces SparkApplications may be submitted to; the first is the default. */
  namespaces: string[];
  defaultNamespace: string;
  /** spec.driver.serviceAccount */
  serviceAccount: string;
  /** Secret (in each job namespace) with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_REGION. */
  s3Secret: string;
  /** For spec.driver.envFrom and spec.executor.envFrom (applied by the operator's webhook). */
  envFrom: Array<{ secretRef: { name: string } }>;
  /** For spec.sparkConf: s3a against the platform's store, path-style, credentials from the environment. */
  sparkConf: Record<string, string>;
  /** The in-cluster S3 endpoint. */
  s3Endpoint: string;
  /** Buckets koala creates; the first is the default. */
  buckets: string[];
}

export function sparkJobSettings(config: KoalaConfig): SparkJobSettings {
  const endpoint = objectStoreEndpoint(config);
  return {
    namespaces: [...config.spark.jobNamespaces],
    defaultNamespace: config.spark.jobNamespaces[0]!,
    serviceAccount: SPARK_SERVICE_ACCOUNT,
    s3Secret: SECRETS.jobS3,
    envFrom: [{ secretRef: { name: SECRETS.jobS3 } }],
    sparkConf: s3aConf(config),
    s3Endpoint: endpoint,
    buckets: [...config.objectStore.buckets],
  };
}

/**
 * hadoop-aws settings. Credentials are not here: the S3A default provider chain reads
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment (envFrom the Secret), so they
 * never appear in a SparkApplication, the operator's spark-submit arguments or the Spark UI.
 * The image must carry hadoop-aws matching its Hadoop (apache/spark ships none; the scaffolded
 * Dockerfile adds it).
 */
export function s3aConf(config: KoalaConfig): Record<string, string> {
  const endpoint = objectStoreEndpoint(config);
  return {
    'spark.hadoop.fs.s3a.impl': 'org.apache.hadoop.fs.s3a.S3AFileSystem',
    'spark.hadoop.fs.s3a.endpoint': endpoint,
    'spark.hadoop.fs.s3a.endpoint.region': s3Region(config),
    'spark.hadoop.fs.s3a.path.style.access': String(config.objectStore.pathStyle),
    'spark.hadoop.fs.s3a.connection.ssl.enabled': String(endpoint.startsWith('https:')),
  };
}
