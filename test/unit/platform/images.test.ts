import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  imageFor,
  mirrorReference,
  parseImage,
  registryRepositoryTag,
  sparkBaseImage,
  sparkBuildArgs,
} from '../../../src/charts/images.ts';
import { scaffoldSparkApp } from '../../../src/jobs/scaffold.ts';
import { renderFromManifest, type SparkApplication } from '../../../src/jobs/render.ts';
import { IMAGE_KEYS, loadPins } from '../../../src/charts/pins.ts';
import { defaultConfig } from '../../../src/config/schema.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/util/errors.ts';

const REPO = path.resolve(import.meta.dirname, '../../..');
const DIGEST = `sha256:${'a'.repeat(64)}`;

function makeProject(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-images-'));
  writeFileSync(path.join(dir, '.git'), '');
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

describe('image references', () => {
  it.each([
    ['postgres:17', { domain: 'docker.io', path: 'library/postgres', suffix: ':17' }],
    ['apache/spark:4.0.4', { domain: 'docker.io', path: 'apache/spark', suffix: ':4.0.4' }],
    ['docker.io/apache/airflow:3.2.2', { domain: 'docker.io', path: 'apache/airflow', suffix: ':3.2.2' }],
    [`quay.io/minio/mc:RELEASE.1@${DIGEST}`, { domain: 'quay.io', path: 'minio/mc', suffix: `:RELEASE.1@${DIGEST}` }],
    ['localhost:5001/app', { domain: 'localhost:5001', path: 'app', suffix: '' }],
    ['localhost/app:1', { domain: 'localhost', path: 'app', suffix: ':1' }],
    [
      'ghcr.io/kubeflow/spark-operator/controller:2.5.2',
      { domain: 'ghcr.io', path: 'kubeflow/spark-operator/controller', suffix: ':2.5.2' },
    ],
    [`kindest/node@${DIGEST}`, { domain: 'docker.io', path: 'kindest/node', suffix: `@${DIGEST}` }],
  ])('parses %s as Docker does', (reference, parts) => {
    expect(parseImage(reference)).toEqual(parts);
  });

  it.each([
    ['quay.io/minio/minio:RELEASE.2025', 'mirror.internal:5000/hub/minio/minio:RELEASE.2025'],
    ['postgres:17-alpine', 'mirror.internal:5000/hub/library/postgres:17-alpine'],
    [`kindest/node:v1.34.11@${DIGEST}`, `mirror.internal:5000/hub/kindest/node:v1.34.11@${DIGEST}`],
    ['localhost:5001/pagerank:abc', 'localhost:5001/pagerank:abc'],
    ['127.0.0.1:5001/pagerank:abc', '127.0.0.1:5001/pagerank:abc'],
    ['mirror.internal:5000/hub/minio/mc:1', 'mirror.internal:5000/hub/minio/mc:1'],
  ])('the mirror replaces the registry host of %s', (reference, mirrored) => {
    expect(mirrorReference(reference, 'mirror.internal:5000/hub/')).toBe(mirrored);
    expect(mirrorReference(reference, undefined)).toBe(reference);
  });

  it('a key set in images: wins over the pin and the mirror; every other key goes through the mirror', async () => {
    const pins = await loadPins();
    const config = defaultConfig(REPO);
    config.images = { mirror: 'registry.internal:5000/hub', airflow: 'koala-test/airflow:3.2.2' };
    const images = Object.fromEntries(IMAGE_KEYS.map((key) => [key, imageFor(config, pins, key)]));
    expect(images.airflow).toBe('koala-test/airflow:3.2.2');
    for (const key of IMAGE_KEYS.filter((k) => k !== 'airflow'))
      expect(images[key], key).toMatch(/^registry\.internal:5000\/hub\//);
    expect(imageFor(defaultConfig(REPO), pins, 'sparkOperator')).toBe(
      'ghcr.io/kubeflow/spark-operator/controller:2.5.2',
    );
  });

  it('splits a reference into the registry, repository and tag some charts ask for', () => {
    expect(registryRepositoryTag('ghcr.io/kubeflow/spark-operator/controller:2.5.2')).toEqual({
      registry: 'ghcr.io',
      repository: 'kubeflow/spark-operator/controller',
      tag: '2.5.2',
    });
    expect(registryRepositoryTag(`m:5000/hub/x/y@${DIGEST}`)).toEqual({
      registry: 'm:5000',
      repository: 'hub/x/y',
      tag: `latest@${DIGEST}`,
    });
  });
});

describe('the Spark base image of apps', () => {
  it("follows images.spark, else the pinned repository at the app's Spark version through the mirror", async () => {
    const pins = await loadPins();
    const config = defaultConfig(REPO);
    expect(sparkBaseImage(config, pins, '4.0.1')).toBe('apache/spark:4.0.1');
    expect(sparkBuildArgs(config, pins, '4.0.4')).toEqual({});
    config.images.mirror = 'm.internal/hub';
    expect(sparkBuildArgs(config, pins, '4.0.4')).toEqual({ SPARK_IMAGE: 'm.internal/hub/apache/spark:4.0.4' });
    config.images.spark = 'koala-test/spark:4.0.5';
    expect(sparkBuildArgs(config, pins, '4.0.4')).toEqual({ SPARK_IMAGE: 'koala-test/spark:4.0.5' });
  });

  it('the scaffolded Dockerfile starts FROM the configured image', async () => {
    const pins = await loadPins();
    const config = defaultConfig(REPO);
    config.images.mirror = 'm.internal/hub';
    const projectDir = makeProject({});
    const { dir } = await scaffoldSparkApp({
      projectDir,
      name: 'pagerank',
      bucket: 'spark-data',
      sparkImage: (v) => sparkBaseImage(config, pins, v),
    });
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toContain(
      'ARG SPARK_IMAGE=m.internal/hub/apache/spark:4.0.4\nFROM ${SPARK_IMAGE}',
    );
  });
});

describe('SparkApplications from a file', () => {
  const app = (spec: Record<string, unknown>): SparkApplication =>
    ({
      apiVersion: 'sparkoperator.k8s.io/v1beta2',
      kind: 'SparkApplication',
      metadata: { name: 'pi' },
      spec,
    }) as SparkApplication;
  const run = { app: 'pi', number: 1, namespace: 'spark-jobs' };

  it('run through the image mirror: the spec, driver and executor images; local ones stay', () => {
    const spec = {
      image: 'spark:4.0.0',
      driver: { image: 'docker.io/apache/spark:4.0.0' },
      executor: { image: 'localhost:5001/pi:1' },
    };
    const rendered = renderFromManifest(app(spec), run, { file: 'pi.yaml', imageMirror: 'm.internal/hub' });
    expect(rendered.spec.image).toBe('m.internal/hub/library/spark:4.0.0');
    expect(rendered.spec.driver?.image).toBe('m.internal/hub/apache/spark:4.0.0');
    expect(rendered.spec.executor?.image).toBe('localhost:5001/pi:1');
    expect(renderFromManifest(app(spec), run, { file: 'pi.yaml' }).spec.image).toBe('spark:4.0.0');
    // --image wins over the mirror.
    expect(
      renderFromManifest(app(spec), run, { file: 'pi.yaml', imageMirror: 'm.internal/hub', image: 'my/pi:2' }).spec
        .image,
    ).toBe('my/pi:2');
  });
});

describe('images: in koala.yaml', () => {
  const load = async (yaml: string, env: Record<string, string> = {}) => {
    const dir = makeProject({ 'koala.yaml': yaml });
    return loadConfig({ cwd: dir, processEnv: env });
  };
  const problems = async (yaml: string): Promise<string> => {
    try {
      await load(yaml);
    } catch (error) {
      if (error instanceof ConfigError) return error.message.replaceAll(/\S*koala-images-\w+\//g, '');
      throw error;
    }
    throw new Error('expected a ConfigError');
  };

  it('accepts a mirror and per-key references, and KOALA_IMAGE_MIRROR', async () => {
    const { config } = await load('images:\n  mirror: registry.internal:5000/hub\n  spark: my.registry/spark:4.0.5\n');
    expect(config.images).toEqual({ mirror: 'registry.internal:5000/hub', spark: 'my.registry/spark:4.0.5' });
    expect((await load('', { KOALA_IMAGE_MIRROR: 'm.internal' })).config.images.mirror).toBe('m.internal');
  });

  it('the mirror reaches the registry container and the node image unless they are set', async () => {
    const { config } = await load('images:\n  mirror: m.internal/hub\n');
    expect(config.registry.image).toBe('m.internal/hub/library/registry:3');
    const { clusterSpec, resolveNodeImage } = await import('../../../src/cluster/spec.ts');
    expect(clusterSpec(config, resolveNodeImage(config.cluster, '2')).nodeImage).toMatch(
      /^m\.internal\/hub\/kindest\/node:v[\d.]+@sha256:/,
    );
    const own = await load('images:\n  mirror: m.internal/hub\nregistry:\n  image: my/registry:3\n');
    expect(own.config.registry.image).toBe('my/registry:3');
  });

  it.each([
    [
      'images:\n  mirror: https://registry.internal/hub\n',
      'koala.yaml:2: images.mirror: "https://registry.internal/hub" is not valid',
      'a registry host with an optional path and no scheme',
    ],
    [
      'images:\n  airflow: Apache/Airflow:3\n',
      'koala.yaml:2: images.airflow: "Apache/Airflow:3" is not valid',
      'an image reference like',
    ],
    ['images:\n  postgres: postgres:17@sha256:short\n', 'koala.yaml:2: images.postgres', 'an image reference like'],
    ['images:\n  minio: 42\n', 'koala.yaml:2: images.minio', 'an image reference like'],
    [
      'images:\n  nginx: nginx:1\n',
      'koala.yaml:2: images.nginx',
      'mirror, minio, mc, postgres, spark, airflow, sparkOperator, seaweedfs',
    ],
  ])('refuses %j with the file, line, field and what is accepted', async (yaml, where, accepted) => {
    const message = await problems(yaml);
    expect(message).toContain(where);
    expect(message).toContain(accepted);
  });
});
