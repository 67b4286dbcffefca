import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { sparkBuildArgs } from '../charts/images.ts';
import { loadPins } from '../charts/pins.ts';
import type { Manifest } from '../kube/client.ts';
import type { PlatformContext } from '../orchestration/context.ts';
import { findAppDir, loadApp, type SparkApp } from './app-file.ts';
import { followRun, type FollowResult, type RunEvent } from './follow.ts';
import { buildAppImage, type BuildResult, type Delivery } from './image.ts';
import { sparkPlatform } from './spark-platform.ts';
import { loadManifestFile } from './manifest-file.ts';
import { missingReferences, referencedObjects } from './references.ts';
import { ANNOTATION_SOURCE, renderFromManifest, renderSparkApplication, type SparkApplication } from './render.ts';
import { dryRunFile, missingError, prepareFile, sharedNotice } from './run-file.ts';
import { nextRunNumber, otherSources, preflightSubmit, pruneRuns, submitRun } from './submit.ts';
import { EXIT, KoalaError } from '../util/errors.ts';

export interface RunRequest {
  ctx: PlatformContext;
  /** An app name or folder (spark-app.yaml), or… */
  app?: string;
  /** …an existing SparkApplication manifest. */
  file?: string;
  namespace?: string;
  serviceAccount?: string;
  image?: string;
  buildArgs?: Record<string, string>;
  load?: boolean;
  keepRuns?: number;
  signal: AbortSignal;
  onBuildLine?(line: string): void;
  /** One line for each thing koala does differently from what the file says, as it is found. */
  onNotice?(line: string): void;
}

export interface Submitted {
  run: SparkApplication;
  /** The ConfigMaps and Secrets of the file, applied in the run's namespace. */
  applied: string[];
  name: string;
  namespace: string;
  build?: BuildResult;
  pruned: string[];
  /** ms from the start of the command to the SparkApplication's creation (benchmark (a)). */
  submitMs: number;
  /** Where that time went: connect, preflight, image, create (ms each). */
  phases: Record<string, number>;
}

export function deliveryFor(ctx: PlatformContext, load: boolean | undefined): Delivery {
  if (ctx.target.kind === 'existing') {
    const repository = ctx.config.registry.external;
    if (load || !repository)
      throw new KoalaError(
        load
          ? `--load puts an image into kind's nodes; context "${ctx.target.context}" is not a kind cluster koala made`
          : `Context "${ctx.target.context}" is a cluster koala did not create: it cannot pull from koala's ` +
              'local registry',
        {
          hint:
            'Set registry.external in koala.yaml to a registry the cluster pulls from ' +
            '(like registry.example.com:5000/team), and `docker login` to it.',
          exitCode: EXIT.usage,
        },
      );
    return { kind: 'external', repository };
  }
  if (load || !ctx.config.registry.enabled)
    return { kind: 'load', cluster: ctx.config.cluster.name, stateDir: ctx.home };
  return { kind: 'push', registryPort: ctx.config.registry.port, registryName: ctx.config.registry.name };
}

/** Build if needed, render, check, create a new run, prune old ones. Nothing is waited for. */
export async function submit(request: RunRequest): Promise<Submitted> {
  const started = performance.now();
  const phases: Record<string, number> = {};
  let last = started;
  const mark = (phase: string): void => {
    const now = performance.now();
    phases[phase] = Math.round(now - last);
    last = now;
  };
  const { ctx } = request;
  const platform = sparkPlatform(ctx.config);
  const defaultNamespace = platform.jobNamespaces[0]!;
  let manifest: SparkApplication;
  let build: BuildResult | undefined;
  let keep = request.keepRuns ?? 5;
  let appName: string;
  let namespace: string;

  let companions: Manifest[] = [];
  if (request.file) {
    // Everything that can be checked without a cluster comes first.
    const prepared = prepareFile(await loadManifestFile(request.file), request, defaultNamespace);
    ({ appName, namespace, companions } = prepared);
    const { source, probe } = prepared;
    const kube = await ctx.kube();
    mark('connect');
    await preflightSubmit(kube, probe, platform, { secrets: false });
    const [missing, others, number] = await Promise.all([
      missingReferences(kube, namespace, referencedObjects(probe.spec), companions),
      otherSources(kube, namespace, appName, source.file),
      nextRunNumber(kube, namespace, appName),
    ]);
    if (missing.length) throw missingError(source.file, namespace, missing);
    others.forEach((other) => request.onNotice?.(sharedNotice(appName, namespace, other, 'metadata.name')));
    mark('preflight');
    manifest = renderFromManifest(source.app, { app: appName, number, namespace }, prepared.overrides);
  } else {
    const app: SparkApp = await loadApp(findAppDir(ctx.config.projectDir, request.app!));
    if (!request.image) await warnWithoutS3a(app, request.onNotice);
    appName = app.name;
    keep = request.keepRuns ?? app.keepRuns;
    namespace = request.namespace ?? app.namespace ?? defaultNamespace;
    // The connection (client-node loads slowly), the cluster checks and the image check or
    // build all start at once; a failed check cancels a build already under way.
    const cancelBuild = new AbortController();
    const kubeReady = ctx.kube();
    const probe = renderSparkApplication(
      app,
      { app: app.name, number: 0, namespace },
      { image: 'probe', contextDigest: '', platform },
    );
    if (request.serviceAccount) probe.spec.driver = { ...probe.spec.driver, serviceAccount: request.serviceAccount };
    const building = request.image
      ? undefined
      : buildAppImage({
          app: app.name,
          dir: app.dir,
          dockerfile: app.build.dockerfile,
          buildArgs: {
            ...sparkBuildArgs(ctx.config, await loadPins(), app.sparkVersion),
            ...app.build.args,
            ...request.buildArgs,
          },
          delivery: deliveryFor(ctx, request.load),
          signal: AbortSignal.any([request.signal, cancelBuild.signal]),
          ...(request.onBuildLine ? { onLine: request.onBuildLine } : {}),
        });
    building?.catch(() => undefined); // awaited below; a failed check must not leave it unhandled
    const kube = await kubeReady;
    mark('connect');
    const [checked, numbered, shared] = await Promise.allSettled([
      preflightSubmit(kube, probe, platform),
      nextRunNumber(kube, namespace, app.name),
      otherSources(kube, namespace, app.name, app.file),
    ]);
    // The preflight's error says what is wrong in words; a failed listing is a symptom of it.
    const failed = checked.status === 'rejected' ? checked : numbered.status === 'rejected' ? numbered : undefined;
    if (failed) {
      cancelBuild.abort(failed.reason);
      throw failed.reason;
    }
    const number = (numbered as PromiseFulfilledResult<number>).value;
    for (const other of shared.status === 'fulfilled' ? shared.value : []) {
      request.onNotice?.(sharedNotice(app.name, namespace, other, 'name in spark-app.yaml'));
    }
    mark('preflight');
    build = building ? await building : undefined;
    mark('image');
    const image = request.image ?? build!.image;
    manifest = renderSparkApplication(
      app,
      { app: app.name, number, namespace },
      { image, contextDigest: build?.context.digest ?? '', platform },
    );
    if (request.serviceAccount)
      manifest.spec.driver = { ...manifest.spec.driver, serviceAccount: request.serviceAccount };
  }

  const kube = await ctx.kube();
  const run = await submitRun(kube, manifest, { companions });
  mark('create');
  const submitMs = performance.now() - started;
  const source = manifest.metadata.annotations?.[ANNOTATION_SOURCE] ?? '';
  const pruned = await pruneRuns(kube, namespace, appName, keep, source).catch(() => []);
  const applied = companions.map((c) => `${c.kind} ${c.metadata.name}`);
  return { run, applied, name: run.metadata.name, namespace, ...(build ? { build } : {}), pruned, submitMs, phases };
}

export { dryRunFile, loadManifestFile };
export type { FollowResult, RunEvent };
export { followRun };

/**
 * s3a:// needs hadoop-aws in the image; the scaffolded Dockerfile adds it. An app made before it
 * did, or with a Dockerfile of its own, would fail only inside the driver (S3AFileSystem not found).
 */
async function warnWithoutS3a(app: SparkApp, onNotice: ((line: string) => void) | undefined): Promise<void> {
  if (!app.objectStore || !onNotice) return;
  const dockerfile = path.join(app.dir, app.build.dockerfile);
  const text = await readFile(dockerfile, 'utf8').catch(() => '');
  if (text && !text.includes('hadoop-aws'))
    onNotice(
      `${app.file} sets objectStore: true, but ${dockerfile} does not add hadoop-aws: s3a:// paths will fail ` +
        'in the driver. Copy the ADD and RUN lines for hadoop-aws from a Dockerfile `koala new spark-app` writes.',
    );
}
