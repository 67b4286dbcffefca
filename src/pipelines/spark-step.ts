import path from 'node:path';
import { sparkBuildArgs } from '../charts/images.ts';
import { loadPins } from '../charts/pins.ts';
import type { PlatformContext } from '../orchestration/context.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import { APPS_DIR, loadApp } from '../jobs/app-file.ts';
import { hashBuildContext } from '../jobs/context-hash.ts';
import { buildAppImage, imageRepository } from '../jobs/image.ts';
import { renderSparkApplication, type SparkApplication } from '../jobs/render.ts';
import { deliveryFor } from '../jobs/run.ts';
import { sparkPlatform } from '../jobs/spark-platform.ts';

/**
 * A Spark app as a step of a batch pipeline. The step's container is the app's driver: it runs
 * spark-submit in client mode in the app's own image, with the configuration `koala run` gives
 * the app (its SparkApplication, rendered the same way), and the driver asks the API server for
 * the executors. So the step ends when the app does, with its exit code, and its log is the
 * driver's log; the kubelet's retry of the step is a new driver. The executors are owned by the
 * step's pod, so they go when it goes.
 */

const POD_IP = 'KOALA_POD_IP';
const POD_NAME = 'KOALA_POD_NAME';
const SPARK_HOME = '/opt/spark';

export interface SparkStepApp {
  step: string;
  app: string;
  image: string;
  built: boolean;
  manifest: SparkApplication;
}

/** Build (unless dryRun, which only names the image) and render the app a step runs. */
export async function sparkStepApp(
  ctx: PlatformContext,
  step: string,
  appName: string,
  namespace: string,
  options: { dryRun: boolean; signal?: AbortSignal; onLine?: (line: string) => void },
): Promise<SparkStepApp> {
  const platform = sparkPlatform(ctx.config);
  if (!platform.jobNamespaces.includes(namespace))
    throw new KoalaError(
      `Step "${step}" runs the Spark app ${appName}, and namespace ${namespace} is not a Spark job namespace`,
      {
        exitCode: EXIT.usage,
        hint:
          `Deploy the pipeline with -n ${platform.jobNamespaces[0]} (spark.jobNamespaces in koala.yaml lists them): ` +
          'only there do Spark pods get their ServiceAccount, the object store keys and the network ' +
          'policies they need.',
      },
    );
  const app = await loadApp(path.join(ctx.config.projectDir, APPS_DIR, appName));
  const buildArgs = { ...sparkBuildArgs(ctx.config, await loadPins(), app.sparkVersion), ...app.build.args };
  const delivery = deliveryFor(ctx, false);
  const build = options.dryRun
    ? await hashBuildContext(app.dir, { dockerfile: app.build.dockerfile, buildArgs }).then((context) => ({
        image: `${imageRepository(app.name, delivery)}:${context.tag}`,
        built: false,
        context,
      }))
    : await buildAppImage({
        app: app.name,
        dir: app.dir,
        dockerfile: app.build.dockerfile,
        buildArgs,
        delivery,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.onLine ? { onLine: options.onLine } : {}),
      });
  const manifest = renderSparkApplication(
    app,
    { app: app.name, number: 0, namespace },
    { image: build.image, contextDigest: build.context.digest, platform },
  );
  return { step, app: app.name, image: build.image, built: build.built, manifest };
}

/** Spark's memory ("512m", "2g") as a Kubernetes quantity, plus Spark's own overhead (10%, at least 384 MiB). */
export function podMemory(sparkMemory: string): string {
  const match = /^(\d+)([kmgt])?b?$/i.exec(sparkMemory.trim());
  if (!match) return sparkMemory;
  const mib = (Number(match[1]) * { k: 1 / 1024, m: 1, g: 1024, t: 1024 * 1024 }[(match[2] ?? 'm').toLowerCase()]!) | 0;
  return `${mib + Math.max(384, Math.ceil(mib * 0.1))}Mi`;
}

/** The step's container: spark-submit in client mode, from the SparkApplication `koala run` would submit. */
export function sparkStepContainer(step: string, app: SparkApplication): Record<string, unknown> {
  const spec = app.spec as {
    image: string;
    mainApplicationFile: string;
    mainClass?: string;
    arguments?: string[];
    sparkConf?: Record<string, string>;
    driver: { cores?: number; coreRequest?: string; coreLimit?: string; memory?: string };
    executor: { cores?: number; coreRequest?: string; coreLimit?: string; memory?: string; instances?: number };
  };
  const namespace = app.metadata.namespace!;
  const env: Array<Record<string, unknown>> = [
    { name: POD_IP, valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: POD_NAME, valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'SPARK_HOME', value: SPARK_HOME },
    { name: 'PYSPARK_PYTHON', value: 'python3' },
  ];
  const conf: Record<string, string> = {
    'spark.kubernetes.namespace': namespace,
    'spark.kubernetes.container.image': spec.image,
    'spark.kubernetes.container.image.pullPolicy': 'IfNotPresent',
    // The executors call back to this pod by its address, and are owned by it.
    'spark.driver.host': `$(${POD_IP})`,
    'spark.driver.bindAddress': '0.0.0.0',
    'spark.kubernetes.driver.pod.name': `$(${POD_NAME})`,
    'spark.executor.instances': String(spec.executor.instances ?? 1),
    ...(spec.executor.cores ? { 'spark.executor.cores': String(spec.executor.cores) } : {}),
    ...(spec.executor.memory ? { 'spark.executor.memory': spec.executor.memory } : {}),
    // What the operator turns executor.coreRequest and coreLimit into.
    ...(spec.executor.coreRequest ? { 'spark.kubernetes.executor.request.cores': spec.executor.coreRequest } : {}),
    ...(spec.executor.coreLimit ? { 'spark.kubernetes.executor.limit.cores': spec.executor.coreLimit } : {}),
    ...(app.metadata.labels?.['koala.dev/app']
      ? { 'spark.kubernetes.executor.label.koala.dev/app': app.metadata.labels['koala.dev/app'] }
      : {}),
  };
  for (const [key, value] of Object.entries(spec.sparkConf ?? {})) {
    // The driver is this container: what the operator would set on the driver pod is its env here.
    const driverEnv = /^spark\.kubernetes\.driverEnv\.(.+)$/.exec(key);
    const driverSecret = /^spark\.kubernetes\.driver\.secretKeyRef\.(.+)$/.exec(key);
    if (driverEnv) env.push({ name: driverEnv[1], value });
    else if (driverSecret) {
      const [secret, secretKey] = value.split(':');
      env.push({ name: driverSecret[1], valueFrom: { secretKeyRef: { name: secret, key: secretKey } } });
    } else conf[key] = value;
  }
  const mainFile = spec.mainApplicationFile.replace(/^local:\/\//, '');
  const args = [
    '--master',
    'k8s://https://kubernetes.default.svc',
    '--deploy-mode',
    'client',
    '--name',
    app.metadata.labels?.['koala.dev/app'] ?? step,
    ...(spec.driver.memory ? ['--driver-memory', spec.driver.memory] : []),
    ...(spec.mainClass ? ['--class', spec.mainClass] : []),
    ...Object.entries(conf).flatMap(([k, v]) => ['--conf', `${k}=${v}`]),
    mainFile,
    ...(spec.arguments ?? []),
  ];
  return {
    name: step,
    image: spec.image,
    imagePullPolicy: 'IfNotPresent',
    command: [`${SPARK_HOME}/bin/spark-submit`],
    args,
    env,
    resources: {
      requests: {
        cpu: spec.driver.coreRequest ?? String(spec.driver.cores ?? 1),
        memory: podMemory(spec.driver.memory ?? '1g'),
      },
      ...(spec.driver.coreLimit ? { limits: { cpu: spec.driver.coreLimit } } : {}),
    },
  };
}
