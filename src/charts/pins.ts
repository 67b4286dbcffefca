import { readFile } from 'node:fs/promises';
import type { KoalaConfig } from '../config/schema.ts';
import { assetPath } from '../util/paths.ts';

/** The upstream charts and images koala installs, pinned in assets/charts/pins.yaml. */

export const CHART_KEYS = ['spark-operator', 'minio', 'seaweedfs', 'airflow'] as const;
export type ChartKey = (typeof CHART_KEYS)[number];
/** Every image the platform runs; koala.yaml's `images.<key>` overrides each (src/charts/images.ts). */
export const IMAGE_KEYS = [
  'minio',
  'mc',
  'postgres',
  'spark',
  'airflow',
  'sparkOperator',
  'seaweedfs',
  'busybox',
  'gateway',
] as const;
export type ImageKey = (typeof IMAGE_KEYS)[number];

export interface ChartPin {
  /** The chart repository (an index.yaml lives under it). */
  repository: string;
  name: string;
  version: string;
}

export interface Pins {
  charts: Record<ChartKey, ChartPin>;
  images: Record<ImageKey, string>;
}

let cached: Promise<Pins> | undefined;

export function loadPins(): Promise<Pins> {
  cached ??= (async () => {
    const { load } = await import('js-yaml');
    const file = assetPath('charts', 'pins.yaml');
    return validatePins(load(await readFile(file, 'utf8')), file);
  })();
  return cached;
}

/** The pins file ships with koala; a broken one is a packaging bug, reported as such. */
export function validatePins(raw: unknown, file: string): Pins {
  const fail = (what: string): never => {
    throw new Error(`${file}: ${what} (this file ships with koala; reinstall it)`);
  };
  const doc = (raw ?? {}) as { charts?: Record<string, Partial<ChartPin>>; images?: Record<string, unknown> };
  const charts = {} as Record<ChartKey, ChartPin>;
  for (const key of CHART_KEYS) {
    const pin = doc.charts?.[key];
    if (!pin || typeof pin.repository !== 'string' || typeof pin.name !== 'string' || typeof pin.version !== 'string')
      fail(`charts.${key} needs repository, name and version`);
    charts[key] = { repository: pin!.repository!, name: pin!.name!, version: String(pin!.version) };
  }
  const images = {} as Record<ImageKey, string>;
  for (const key of IMAGE_KEYS) {
    const image = doc.images?.[key];
    if (typeof image !== 'string' || !image) fail(`images.${key} is missing`);
    images[key] = image as string;
  }
  return { charts, images };
}

/** The chart a component installs: its pin, with the version koala.yaml may override. */
export function chartFor(pins: Pins, key: ChartKey, config: KoalaConfig, componentId: string): ChartPin {
  const pin = pins.charts[key];
  const version = config.components[componentId]?.version;
  return version ? { ...pin, version } : pin;
}

/** Split "repo/name:tag@sha256:…" into what charts call repository and tag. */
export function splitImage(image: string): { repository: string; tag: string } {
  const at = image.indexOf('@');
  const beforeDigest = at >= 0 ? image.slice(0, at) : image;
  const colon = beforeDigest.lastIndexOf(':');
  const slash = beforeDigest.lastIndexOf('/');
  if (colon > slash) return { repository: beforeDigest.slice(0, colon), tag: image.slice(colon + 1) };
  return { repository: beforeDigest, tag: at >= 0 ? `latest${image.slice(at)}` : 'latest' };
}
