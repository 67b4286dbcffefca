import { imageFor } from '../charts/images.ts';
import { loadPins } from '../charts/pins.ts';
import type { LoadedConfig } from '../config/load.ts';
import type { Manifest } from '../kube/client.ts';
import { existingClusterContext } from '../orchestration/contexts.ts';
import { storageObjects, withHash, type ObjectAction } from '../tasks/deploy.ts';
import { sparkPlatform } from '../jobs/spark-platform.ts';
import { batchObject, deployBatch, type BatchObjectOptions } from './batch-run.ts';
import { sparkStepApp, sparkStepContainer, type SparkStepApp } from './spark-step.ts';
import { deployStream } from './run.ts';
import { loadPipeline, refuseExpired, renderStream } from './stream.ts';

export interface PipelineDeployResult {
  pipeline: string;
  kind: 'stream' | 'batch';
  namespace: string;
  dryRun: boolean;
  /** The image of each Spark app step: built and pushed when its app changed (named only with --dry-run). */
  sparkApps: Array<{ step: string; app: string; image: string; built: boolean }>;
  objects: Array<{ kind: string; name: string; action: ObjectAction }>;
  /** What is (or, with --dry-run, would be) applied. */
  manifests: Manifest[];
}

/**
 * `koala pipelines deploy`: check the file, then apply a stream pipeline's Deployments or a batch
 * pipeline's CronJob, with the object store's Secret and ConfigMap when it asks for storage.
 */
export async function deployPipeline(
  loaded: LoadedConfig,
  options: { file: string; namespace: string; dryRun: boolean; signal?: AbortSignal; onLine?: (l: string) => void },
): Promise<PipelineDeployResult> {
  const pipeline = await loadPipeline(options.file);
  refuseExpired(pipeline);
  const { namespace } = options;
  const ctx = existingClusterContext(loaded);
  const sparkApps: SparkStepApp[] = [];
  if (pipeline.kind === 'batch')
    for (const step of pipeline.steps)
      if (step.sparkApp)
        sparkApps.push(
          await sparkStepApp(ctx, step.name, step.sparkApp, namespace, {
            dryRun: options.dryRun,
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.onLine ? { onLine: options.onLine } : {}),
          }),
        );
  const render: BatchObjectOptions = {
    namespace,
    gateImage: imageFor(loaded.config, await loadPins(), 'busybox'),
    ...(sparkApps.length > 0
      ? {
          sparkSteps: Object.fromEntries(sparkApps.map((s) => [s.step, sparkStepContainer(s.step, s.manifest)])),
          serviceAccount: sparkPlatform(loaded.config).serviceAccount,
        }
      : {}),
  };
  const base = {
    pipeline: pipeline.name,
    kind: pipeline.kind,
    namespace,
    dryRun: options.dryRun,
    sparkApps: sparkApps.map(({ step, app, image, built }) => ({ step, app, image, built })),
    objects: [],
  };
  if (options.dryRun) {
    const manifests =
      pipeline.kind === 'batch'
        ? [await batchObject(undefined, pipeline, render)]
        : renderStream(pipeline, namespace, false).map(withHash);
    return { ...base, manifests };
  }
  const kube = await ctx.kube();
  // The storage source is read first: a platform without an object store stops the deploy
  // before anything is made.
  const storage = pipeline.storage ? await storageObjects(kube, loaded.config, namespace) : [];
  if (pipeline.kind === 'batch') {
    const { objects, cronJob } = await deployBatch(kube, pipeline, render, storage, options.signal);
    return { ...base, objects, manifests: [...storage, cronJob] };
  }
  const objects = await deployStream(kube, pipeline, namespace, storage, options.signal);
  return { ...base, objects, manifests: [...storage, ...renderStream(pipeline, namespace, false)] };
}
