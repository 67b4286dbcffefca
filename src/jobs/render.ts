import { mirrorReference } from '../charts/images.ts';
import type { Manifest } from '../kube/client.ts';
import { IMAGE_APP_DIR, type Resources, type SparkApp } from './app-file.ts';
import type { SparkPlatform } from './spark-platform.ts';

export const SPARK_API_VERSION = 'sparkoperator.k8s.io/v1beta2';
export const SPARK_KIND = 'SparkApplication';
export const LABEL_APP = 'koala.dev/app';
export const LABEL_RUN_NUMBER = 'koala.dev/run-number';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const ANNOTATION_CONTEXT = 'koala.dev/build-context';
export const ANNOTATION_SOURCE = 'koala.dev/source';
/** The labels the operator puts on the pods it launches. */
export const POD_LABEL_APP_NAME = 'sparkoperator.k8s.io/app-name';
export const POD_LABEL_ROLE = 'spark-role';

export interface SparkApplication extends Manifest {
  metadata: Manifest['metadata'] & { creationTimestamp?: Date; uid?: string; resourceVersion?: string };
  spec: Record<string, unknown> & { driver?: Record<string, unknown>; executor?: Record<string, unknown> };
  status?: SparkApplicationStatus;
}

export interface SparkApplicationStatus {
  applicationState?: { state?: string; errorMessage?: string };
  driverInfo?: { podName?: string; webUIServiceName?: string; webUIPort?: number; webUIAddress?: string };
  executorState?: Record<string, string>;
  sparkApplicationId?: string;
  submissionID?: string;
  lastSubmissionAttemptTime?: string;
  terminationTime?: string;
  executionAttempts?: number;
  submissionAttempts?: number;
}

export interface RunIdentity {
  app: string;
  number: number;
  namespace: string;
}

/** `<app>-<n>`: a new SparkApplication per run, so older runs stay readable until pruned. */
export function runName(app: string, number: number): string {
  return `${app}-${number}`;
}

function resources(r: Resources): Record<string, unknown> {
  return {
    cores: r.cores,
    memory: r.memory,
    ...(r.coreRequest ? { coreRequest: r.coreRequest } : {}),
    ...(r.coreLimit ? { coreLimit: r.coreLimit } : {}),
  };
}

/**
 * The SparkApplication of one run of an app, as pure data. The image tag is the build's content
 * hash, so IfNotPresent is exact (no `:latest` + Always pulling on every run).
 */
export function renderSparkApplication(
  app: SparkApp,
  run: RunIdentity,
  options: { image: string; contextDigest: string; platform: SparkPlatform },
): SparkApplication {
  const { platform } = options;
  const labels = { [LABEL_MANAGED_BY]: 'koala', [LABEL_APP]: app.name, [LABEL_RUN_NUMBER]: String(run.number) };
  const sparkConf: Record<string, string> = { ...app.sparkConf };
  // Plain values go in as Spark's own confs: they reach the pods through spark-submit, whereas
  // the operator applies `env` only through its webhook.
  for (const [name, value] of Object.entries(app.env)) {
    sparkConf[`spark.kubernetes.driverEnv.${name}`] = value;
    sparkConf[`spark.executorEnv.${name}`] = value;
  }
  const spec: SparkApplication['spec'] = {
    type: app.type,
    mode: 'cluster',
    image: options.image,
    imagePullPolicy: 'IfNotPresent',
    mainApplicationFile: `local://${IMAGE_APP_DIR}/${app.mainFile}`,
    ...(app.mainClass ? { mainClass: app.mainClass } : {}),
    ...(app.type === 'Python' ? { pythonVersion: '3' } : {}),
    arguments: app.arguments,
    sparkVersion: app.sparkVersion,
    restartPolicy: app.restartPolicy ?? { type: 'Never' },
    driver: {
      ...resources(app.driver),
      serviceAccount: platform.serviceAccount,
      labels: { [LABEL_APP]: app.name },
    },
    executor: {
      ...resources(app.executor),
      instances: app.executor.instances,
      labels: { [LABEL_APP]: app.name },
    },
  };
  if (app.objectStore) {
    const store = platform.objectStore;
    // The platform's s3a settings (endpoint, path-style, region; no credentials).
    Object.assign(sparkConf, store.sparkConf);
    // Keys come from the Secret through Spark's own secretKeyRef confs, so they are never in
    // the SparkApplication or a log, and reach the pods with or without the operator's webhook.
    for (const role of ['driver', 'executor']) {
      sparkConf[`spark.kubernetes.${role}.secretKeyRef.AWS_ACCESS_KEY_ID`] =
        `${store.secretName}:${store.accessKeyKey}`;
      sparkConf[`spark.kubernetes.${role}.secretKeyRef.AWS_SECRET_ACCESS_KEY`] =
        `${store.secretName}:${store.secretKeyKey}`;
    }
  }
  if (Object.keys(sparkConf).length) spec.sparkConf = sparkConf;
  return {
    apiVersion: SPARK_API_VERSION,
    kind: SPARK_KIND,
    metadata: {
      name: runName(app.name, run.number),
      namespace: run.namespace,
      labels,
      annotations: { [ANNOTATION_CONTEXT]: options.contextDigest, [ANNOTATION_SOURCE]: app.file },
    },
    spec,
  };
}

/**
 * An existing SparkApplication manifest (a hand-written pagerank.yml, the operator's examples) as
 * one run: the same spec under a new name per run, with koala's labels so it can be listed,
 * followed and pruned like any app.
 */
export function renderFromManifest(
  manifest: SparkApplication,
  run: RunIdentity,
  overrides: { image?: string; serviceAccount?: string; file: string; imageMirror?: string },
): SparkApplication {
  const spec = structuredClone(manifest.spec);
  // koala.yaml's image mirror reaches a file's upstream images too (spec, driver and executor).
  if (overrides.imageMirror) {
    const parts = [spec, spec.driver, spec.executor] as Array<{ image?: string } | undefined>;
    for (const part of parts) if (part?.image) part.image = mirrorReference(part.image, overrides.imageMirror);
  }
  if (overrides.image) spec.image = overrides.image;
  if (overrides.serviceAccount) spec.driver = { ...(spec.driver ?? {}), serviceAccount: overrides.serviceAccount };
  return {
    apiVersion: manifest.apiVersion,
    kind: manifest.kind,
    metadata: {
      name: runName(run.app, run.number),
      namespace: run.namespace,
      labels: {
        ...(manifest.metadata.labels ?? {}),
        [LABEL_MANAGED_BY]: 'koala',
        [LABEL_APP]: run.app,
        [LABEL_RUN_NUMBER]: String(run.number),
      },
      annotations: { ...(manifest.metadata.annotations ?? {}), [ANNOTATION_SOURCE]: overrides.file },
    },
    spec,
  };
}
