import type { KoalaConfig } from '../config/schema.ts';
import type { ImageKey, Pins } from './pins.ts';

/**
 * Which image reference koala uses for each part of the platform. An `images.<key>` in koala.yaml
 * wins; otherwise the pin, with `images.mirror` put in front of it when one is set. A mirror
 * replaces the upstream registry host: `quay.io/minio/mc:TAG` becomes `<mirror>/minio/mc:TAG`
 * and `postgres:17` (Docker Hub) becomes `<mirror>/library/postgres:17`, the layout pull-through
 * caches such as the distribution registry's proxy mode and Harbor's proxy projects serve.
 */

/** Docker's reading of a reference: the registry host, the repository path, and the tag and/or digest. */
export interface ImageParts {
  domain: string;
  path: string;
  /** ":tag", "@sha256:…", ":tag@sha256:…" or "". */
  suffix: string;
}

const DOCKER_HUB = 'docker.io';

/** Split a reference the way Docker normalises it (a first part with "." or ":", or "localhost", is a host). */
export function parseImage(reference: string): ImageParts {
  const at = reference.indexOf('@');
  const named = at >= 0 ? reference.slice(0, at) : reference;
  const digest = at >= 0 ? reference.slice(at) : '';
  const slash = named.lastIndexOf('/');
  const colon = named.lastIndexOf(':');
  const tag = colon > slash ? named.slice(colon) : '';
  const name = colon > slash ? named.slice(0, colon) : named;
  const first = name.split('/')[0]!;
  const hasDomain = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const domain = hasDomain ? first : DOCKER_HUB;
  let path = hasDomain ? name.slice(first.length + 1) : name;
  if (domain === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  return { domain, path, suffix: `${tag}${digest}` };
}

/** True for references served by this machine (the local registry, a kind-loaded image). */
function isLocal(parts: ImageParts): boolean {
  return parts.domain === 'localhost' || /^(localhost|127\.\d+\.\d+\.\d+)(:\d+)?$/.test(parts.domain);
}

/** Put the mirror in place of the upstream registry host; local references stay as they are. */
export function mirrorReference(reference: string, mirror: string | undefined): string {
  if (!mirror) return reference;
  const parts = parseImage(reference);
  const base = mirror.replace(/\/+$/, '');
  if (isLocal(parts) || `${parts.domain}/${parts.path}`.startsWith(`${base}/`)) return reference;
  return `${base}/${parts.path}${parts.suffix}`;
}

/** The reference koala uses for one image key. */
export function imageFor(config: KoalaConfig, pins: Pins, key: ImageKey): string {
  return config.images[key] ?? mirrorReference(pins.images[key], config.images.mirror);
}

/** The `{registry, repository, tag}` triple some charts want, with the digest kept in the tag. */
export function registryRepositoryTag(reference: string): { registry: string; repository: string; tag: string } {
  const parts = parseImage(reference);
  const tag = parts.suffix.startsWith(':') ? parts.suffix.slice(1) : `latest${parts.suffix}`;
  return { registry: parts.domain, repository: parts.path, tag };
}

/** The Spark runtime an app's image starts FROM: `images.spark`, else the pinned repository at the app's version. */
export function sparkBaseImage(config: KoalaConfig, pins: Pins, sparkVersion: string): string {
  if (config.images.spark) return config.images.spark;
  const pinned = parseImage(pins.images.spark);
  const reference = `${pinned.domain}/${pinned.path}:${sparkVersion}`;
  // Without a mirror, the name Docker Hub users know (apache/spark:4.0.4), as the Dockerfile had it.
  if (!config.images.mirror) return reference.replace(/^docker\.io\/(library\/)?/, '');
  return mirrorReference(reference, config.images.mirror);
}

/**
 * The SPARK_IMAGE build argument of the scaffolded Dockerfile, when koala.yaml moves images
 * elsewhere. Without `images.spark` or a mirror nothing is passed, so the Dockerfile's own
 * default stands and existing build caches stay valid.
 */
export function sparkBuildArgs(config: KoalaConfig, pins: Pins, sparkVersion: string): Record<string, string> {
  return config.images.spark || config.images.mirror ? { SPARK_IMAGE: sparkBaseImage(config, pins, sparkVersion) } : {};
}
