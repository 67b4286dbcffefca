import { sparkBuildArgs } from '../charts/images.ts';
import { loadPins } from '../charts/pins.ts';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { PlatformContext } from '../platform/context.ts';
import { ConfigError, EXIT, KoalaError } from '../util/errors.ts';
import { findAppDir, loadApp, type SparkApp } from './app-file.ts';
import { followRun, type FollowResult, type RunEvent } from './follow.ts';
import { buildAppImage, type BuildResult, type Delivery } from './image.ts';
import { sparkPlatform } from './platform.ts';
import { renderFromManifest, renderSparkApplication, SPARK_API_VERSION, SPARK_KIND, type SparkApplication } from './render.ts';
import { nextRunNumber, preflightSubmit, pruneRuns, submitRun } from './submit.ts';

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
}

export interface Submitted {
  run: SparkApplication;
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
  if (load || !ctx.config.registry.enabled) return { kind: 'load', cluster: ctx.config.cluster.name, stateDir: ctx.home };
  return { kind: 'push', registryPort: ctx.config.registry.port };
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

  if (request.file) {
    const source = await loadManifestFile(request.file);
    appName = source.metadata.name;
    namespace = request.namespace ?? source.metadata.namespace ?? defaultNamespace;
    const kube = await ctx.kube();
    mark('connect');
    const overrides = { file: path.resolve(request.file), ...(request.image ? { image: request.image } : {}), ...(request.serviceAccount ? { serviceAccount: request.serviceAccount } : {}) };
    await preflightSubmit(kube, renderFromManifest(source, { app: appName, number: 0, namespace }, overrides), platform);
    const number = await nextRunNumber(kube, namespace, appName);
    mark('preflight');
    manifest = renderFromManifest(source, { app: appName, number, namespace }, overrides);
  } else {
    const app: SparkApp = await loadApp(findAppDir(ctx.config.projectDir, request.app!));
    appName = app.name;
    keep = request.keepRuns ?? app.keepRuns;
    namespace = request.namespace ?? app.namespace ?? defaultNamespace;
    // The connection (client-node loads slowly), the cluster checks and the image check or
    // build all start at once; a failed check cancels a build already under way.
    const cancelBuild = new AbortController();
    const kubeReady = ctx.kube();
    const probe = renderSparkApplication(app, { app: app.name, number: 0, namespace }, { image: 'probe', contextDigest: '', platform });
    if (request.serviceAccount) probe.spec.driver = { ...probe.spec.driver, serviceAccount: request.serviceAccount };
    const building = request.image
      ? undefined
      : buildAppImage({
          app: app.name,
          dir: app.dir,
          dockerfile: app.build.dockerfile,
          buildArgs: { ...sparkBuildArgs(ctx.config, await loadPins(), app.sparkVersion), ...app.build.args, ...request.buildArgs },
          delivery: deliveryFor(ctx, request.load),
          signal: AbortSignal.any([request.signal, cancelBuild.signal]),
          ...(request.onBuildLine ? { onLine: request.onBuildLine } : {}),
        });
    building?.catch(() => undefined); // awaited below; a failed check must not leave it unhandled
    const kube = await kubeReady;
    mark('connect');
    const [checked, numbered] = await Promise.allSettled([preflightSubmit(kube, probe, platform), nextRunNumber(kube, namespace, app.name)]);
    // The preflight's error says what is wrong in words; a failed listing is a symptom of it.
    const failed = checked.status === 'rejected' ? checked : numbered.status === 'rejected' ? numbered : undefined;
    if (failed) {
      cancelBuild.abort(failed.reason);
      throw failed.reason;
    }
    const number = (numbered as PromiseFulfilledResult<number>).value;
    mark('preflight');
    build = building ? await building : undefined;
    mark('image');
    const image = request.image ?? build!.image;
    manifest = renderSparkApplication(app, { app: app.name, number, namespace }, { image, contextDigest: build?.context.digest ?? '', platform });
    if (request.serviceAccount) manifest.spec.driver = { ...manifest.spec.driver, serviceAccount: request.serviceAccount };
  }

  const kube = await ctx.kube();
  const run = await submitRun(kube, manifest);
  mark('create');
  const submitMs = performance.now() - started;
  const pruned = await pruneRuns(kube, namespace, appName, keep).catch(() => []);
  return { run, name: run.metadata.name, namespace, ...(build ? { build } : {}), pruned, submitMs, phases };
}

/** Read `koala run -f`: one SparkApplication document (others in the file are refused). */
export async function loadManifestFile(file: string): Promise<SparkApplication> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new KoalaError(`Cannot read ${file}`, { exitCode: EXIT.usage, hint: 'Give the path of a SparkApplication YAML file.' });
  }
  const { parseAllDocuments } = await import('yaml');
  const docs = parseAllDocuments(text).filter((d) => d.contents !== null);
  const problem = (message: string, accepted: string, line = 1): ConfigError => new ConfigError([{ source: file, line, field: '(document)', message, accepted }], `Fix ${file} and run again; nothing was submitted.`);
  for (const doc of docs) if (doc.errors.length) throw problem(doc.errors[0]!.message.split('\n')[0]!, 'valid YAML');
  const apps = docs.map((d) => d.toJS() as SparkApplication).filter((d) => d?.kind === SPARK_KIND);
  if (apps.length !== 1) throw problem(`expected exactly one SparkApplication, found ${apps.length}`, `a document with kind: ${SPARK_KIND}`);
  const app = apps[0]!;
  if (app.apiVersion !== SPARK_API_VERSION) throw problem(`apiVersion "${app.apiVersion}" is not served by the operator`, SPARK_API_VERSION);
  const name = app.metadata?.name;
  if (typeof name !== 'string' || !/^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$/.test(name)) {
    throw problem(`metadata.name "${String(name)}" cannot name runs`, 'a DNS name of at most 42 characters (no templates like {{ ds }}); koala adds -<n> per run');
  }
  if (typeof app.spec !== 'object' || app.spec === null) throw problem('has no spec', 'a SparkApplication with a spec');
  return app;
}

export type { FollowResult, RunEvent };
export { followRun };
