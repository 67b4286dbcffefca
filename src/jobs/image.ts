import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fetchRegistry } from '../cluster/beside-kind.ts';
import { runTool } from '../tools/exec.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import { hashBuildContext, type ContextHash } from './context-hash.ts';

/**
 * How the image reaches the cluster's nodes: koala's local registry, `kind load`, or the
 * registry a cluster koala did not create pulls from (registry.external).
 */
export type Delivery =
  | { kind: 'push'; registryPort: number; registryName: string }
  | { kind: 'load'; cluster: string; stateDir: string }
  | { kind: 'external'; repository: string };

export interface BuildRequest {
  app: string;
  dir: string;
  dockerfile: string;
  buildArgs: Record<string, string>;
  delivery: Delivery;
  signal?: AbortSignal;
  onLine?(line: string): void;
}

export interface BuildResult {
  /** What the SparkApplication's pods run. */
  image: string;
  context: ContextHash;
  built: boolean;
  /** push: layers the registry did not have; load: 1 when `kind load` ran. */
  delivered: boolean;
  layersPushed: number;
  layersReused: number;
  durationMs: number;
  /** Why nothing was done, or what was. */
  reason: string;
}

/** localhost:<port>/koala/<app>: the nodes' containerd sends localhost:<port> to the registry. */
export function imageRepository(app: string, delivery: Delivery): string {
  if (delivery.kind === 'external') return `${delivery.repository}/${app}`;
  return delivery.kind === 'push' ? `localhost:${delivery.registryPort}/koala/${app}` : `koala.local/${app}`;
}

/**
 * `koala build`: the tag is the build context's hash, so whether anything must be done is
 * known before Docker is asked to build: the registry (or the record of `kind load`) either has
 * that tag or it does not. An unchanged app costs one hash and one HTTP request.
 */
export async function buildAppImage(request: BuildRequest): Promise<BuildResult> {
  const started = performance.now();
  if (!existsSync(path.join(request.dir, request.dockerfile))) {
    throw new KoalaError(`No ${request.dockerfile} in ${request.dir}`, {
      exitCode: EXIT.usage,
      hint: `Every koala app is built from a Dockerfile; \`koala new spark-app <name>\` writes one.`,
    });
  }
  const context = await hashBuildContext(request.dir, { dockerfile: request.dockerfile, buildArgs: request.buildArgs });
  const image = `${imageRepository(request.app, request.delivery)}:${context.tag}`;
  const result = (partial: Partial<BuildResult> & { reason: string }): BuildResult => ({
    image,
    context,
    built: false,
    delivered: false,
    layersPushed: 0,
    layersReused: 0,
    durationMs: performance.now() - started,
    ...partial,
  });

  if (await alreadyDelivered(image, request.delivery, request.signal))
    return result({ reason: `${image} is up to date` });

  let built = false;
  if (!(await localImageExists(image, request.signal))) {
    await dockerBuild(image, request);
    built = true;
  }
  if (request.delivery.kind !== 'load') {
    const pushed = await dockerPush(image, request);
    return result({
      built,
      delivered: true,
      ...pushed,
      reason:
        `pushed ${pushed.layersPushed} new layer(s), ` +
        `${pushed.layersReused} already in ${registryOf(request.delivery)}`,
    });
  }
  await runTool({
    tool: 'kind',
    args: ['load', 'docker-image', image, '--name', request.delivery.cluster],
    timeoutMs: 10 * 60_000,
    ...(request.signal ? { signal: request.signal } : {}),
    ...(request.onLine ? { onLine: request.onLine } : {}),
  });
  await recordLoaded(request.delivery, image);
  return result({
    built,
    delivered: true,
    reason: `loaded into the nodes of kind cluster ${request.delivery.cluster}`,
  });
}

function registryOf(delivery: Exclude<Delivery, { kind: 'load' }>): string {
  return delivery.kind === 'push' ? 'the registry' : delivery.repository.split('/')[0]!;
}

async function alreadyDelivered(image: string, delivery: Delivery, signal?: AbortSignal): Promise<boolean> {
  if (delivery.kind === 'load') {
    const loaded = await readLoaded(delivery);
    return loaded.includes(image) && (await localImageExists(image, signal));
  }
  if (delivery.kind === 'external') return externalRegistryHas(image, signal);
  return registryHasTag({ name: delivery.registryName, port: delivery.registryPort }, image, signal);
}

/**
 * Does a registry koala does not run hold this tag? Docker asks it with the user's own login
 * (`docker login`), over HTTPS, or plain HTTP where the daemon allows that registry so.
 */
async function externalRegistryHas(image: string, signal?: AbortSignal): Promise<boolean> {
  const result = await runTool({
    tool: 'docker',
    args: ['manifest', 'inspect', '--insecure', image],
    okExitCodes: [1],
    timeoutMs: 60_000,
    ...(signal ? { signal } : {}),
  });
  return result.exitCode === 0;
}

/** Does the local registry hold this tag? (GET /v2/<name>/manifests/<tag>, HEAD semantics.) */
export async function registryHasTag(
  registry: { name: string; port: number },
  image: string,
  signal?: AbortSignal,
): Promise<boolean> {
  const [repository, tag] = splitImage(image);
  const name = repository.replace(/^[^/]+\//, '');
  try {
    const response = await fetchRegistry(registry, `/v2/${name}/manifests/${tag}`, {
      method: 'HEAD',
      headers: {
        Accept: [
          'application/vnd.oci.image.index.v1+json',
          'application/vnd.oci.image.manifest.v1+json',
          'application/vnd.docker.distribution.manifest.v2+json',
          'application/vnd.docker.distribution.manifest.list.v2+json',
        ].join(', '),
      },
      ...(signal ? { signal } : {}),
      timeoutMs: 5_000,
    });
    return response.ok;
  } catch (error) {
    if (signal?.aborted) throw error;
    throw new KoalaError(`The local registry on localhost:${registry.port} does not answer`, {
      hint:
        'Start it with `koala up` (or check `koala status`); ' +
        '`koala build --load` loads the image into the kind nodes without a registry.',
      cause: error,
    });
  }
}

function splitImage(image: string): [string, string] {
  const at = image.lastIndexOf(':');
  return [image.slice(0, at), image.slice(at + 1)];
}

async function localImageExists(image: string, signal?: AbortSignal): Promise<boolean> {
  const result = await runTool({
    tool: 'docker',
    args: ['image', 'inspect', '--format', '{{.Id}}', image],
    okExitCodes: [1],
    timeoutMs: 30_000,
    ...(signal ? { signal } : {}),
  });
  return result.exitCode === 0;
}

async function dockerBuild(image: string, request: BuildRequest): Promise<void> {
  const args = ['build', '-t', image, '-f', path.join(request.dir, request.dockerfile)];
  for (const [key, value] of Object.entries(request.buildArgs)) args.push('--build-arg', `${key}=${value}`);
  args.push('--label', `dev.koala.app=${request.app}`, request.dir);
  await runTool({
    tool: 'docker',
    args,
    timeoutMs: 30 * 60_000,
    ...(request.signal ? { signal: request.signal } : {}),
    ...(request.onLine ? { onLine: request.onLine } : {}),
  });
}

async function dockerPush(
  image: string,
  request: BuildRequest,
): Promise<{ layersPushed: number; layersReused: number }> {
  const { stdout } = await runTool({
    tool: 'docker',
    args: ['push', image],
    timeoutMs: 30 * 60_000,
    ...(request.signal ? { signal: request.signal } : {}),
    ...(request.onLine ? { onLine: request.onLine } : {}),
  });
  return countPushedLayers(stdout);
}

/** From `docker push` output: "<id>: Pushed" vs "<id>: Layer already exists" / "Mounted from". */
export function countPushedLayers(output: string): { layersPushed: number; layersReused: number } {
  let layersPushed = 0;
  let layersReused = 0;
  for (const line of output.split(/\r?\n/)) {
    if (/^\w+: Pushed\s*$/.test(line.trim())) layersPushed += 1;
    else if (/^\w+: (Layer already exists|Mounted from .*)\s*$/.test(line.trim())) layersReused += 1;
  }
  return { layersPushed, layersReused };
}

const LOADED_FILE = 'loaded-images.json';

async function readLoaded(delivery: Extract<Delivery, { kind: 'load' }>): Promise<string[]> {
  try {
    return JSON.parse(await readFile(path.join(delivery.stateDir, LOADED_FILE), 'utf8')) as string[];
  } catch {
    return [];
  }
}

async function recordLoaded(delivery: Extract<Delivery, { kind: 'load' }>, image: string): Promise<void> {
  const loaded = (await readLoaded(delivery)).filter((i) => i !== image);
  await mkdir(delivery.stateDir, { recursive: true, mode: 0o700 });
  // The newest 50 are plenty to know whether the current build is there.
  await writeFile(path.join(delivery.stateDir, LOADED_FILE), JSON.stringify([...loaded, image].slice(-50), null, 2));
}
