import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.ts';
import { summarize } from '../../src/jobs/apps.ts';
import { loadApp } from '../../src/jobs/app-file.ts';
import { hashBuildContext } from '../../src/jobs/context-hash.ts';
import { countPushedLayers } from '../../src/jobs/image.ts';
import { sparkPlatform } from '../../src/jobs/spark-platform.ts';
import { splitTimestamp } from '../../src/jobs/pod-logs.ts';
import { renderFromManifest, renderSparkApplication, type SparkApplication } from '../../src/jobs/render.ts';
import { loadManifestFile } from '../../src/jobs/run.ts';
import { scaffoldSparkApp } from '../../src/jobs/scaffold.ts';
import { watchedNamespaces } from '../../src/jobs/submit.ts';
import type { Kube } from '../../src/kube/client.ts';
import { ConfigError } from '../../src/util/errors.ts';
import { sparkOperatorFixtures } from '../support/fixtures.ts';

const FIXTURES = sparkOperatorFixtures();
const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'koala-jobs-'));

async function scaffolded(): Promise<string> {
  return (await scaffoldSparkApp({ projectDir: tmp(), name: 'pagerank', bucket: 'spark-data' })).dir;
}

describe('spark-app.yaml', () => {
  it('the scaffold loads with its defaults: Python, 3 executors, object-store access', async () => {
    const app = await loadApp(await scaffolded());
    expect(app).toMatchObject({
      name: 'pagerank',
      type: 'Python',
      mainFile: 'pagerank.py',
      executor: { instances: 3, cores: 1, memory: '512m' },
      driver: { coreLimit: '1200m' },
      objectStore: true,
      keepRuns: 5,
    });
    expect(app.env.PAGERANK_OUTPUT).toBe('s3a://spark-data/pagerank/ranks');
  });

  it('errors name the file, line, field and what is accepted', async () => {
    const dir = await scaffolded();
    const file = path.join(dir, 'spark-app.yaml');
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replace('instances: 3', 'instances: many').replace('type: Python', 'type: Rust'),
    );
    const error = await loadApp(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(
      /spark-app\.yaml:\d+: type: "Rust" is not one of the accepted values \(accepted: Python, Scala, Java\)/,
    );
    expect(message).toMatch(/spark-app\.yaml:\d+: executor\.instances: expected a whole number, got "many"/);
    expect((error as ConfigError).exitCode).toBe(2);
  });
});

describe('rendering a SparkApplication', () => {
  it('one run of an app: content-hash image, IfNotPresent, env and S3 keys as Spark confs, koala labels', async () => {
    const app = await loadApp(await scaffolded());
    const platform = sparkPlatform(defaultConfig('/p'));
    const rendered = renderSparkApplication(
      app,
      { app: 'pagerank', number: 7, namespace: 'spark-jobs' },
      { image: 'localhost:5001/koala/pagerank:0123456789abcdef', contextDigest: 'abc', platform },
    );
    expect(rendered.metadata).toMatchObject({
      name: 'pagerank-7',
      namespace: 'spark-jobs',
      labels: { 'koala.dev/app': 'pagerank', 'koala.dev/run-number': '7', 'app.kubernetes.io/managed-by': 'koala' },
    });
    expect(rendered.spec).toMatchObject({
      type: 'Python',
      pythonVersion: '3',
      mode: 'cluster',
      image: 'localhost:5001/koala/pagerank:0123456789abcdef',
      imagePullPolicy: 'IfNotPresent',
      mainApplicationFile: 'local:///app/pagerank.py',
      driver: { serviceAccount: 'spark-operator-spark', cores: 1, coreLimit: '1200m', memory: '512m' },
      executor: { instances: 3 },
    });
    const conf = rendered.spec.sparkConf as Record<string, string>;
    expect(conf['spark.kubernetes.driverEnv.PAGERANK_ITERATIONS']).toBe('10');
    expect(conf['spark.executorEnv.PAGERANK_INPUT']).toBe('/app/data/pagerank_data.txt');
    expect(conf['spark.kubernetes.executor.secretKeyRef.AWS_SECRET_ACCESS_KEY']).toBe(
      `${platform.objectStore.secretName}:AWS_SECRET_ACCESS_KEY`,
    );
    expect(conf).toMatchObject({
      'spark.hadoop.fs.s3a.endpoint': platform.objectStore.endpoint,
      'spark.hadoop.fs.s3a.path.style.access': 'true',
    });
  });

  it("an existing manifest keeps its spec under a per-run name with koala's labels", async () => {
    const source = (await loadManifestFile(path.join(FIXTURES, 'example-spark-pi.yaml'))).app;
    const run = renderFromManifest(
      source,
      { app: 'spark-pi', number: 2, namespace: 'jobs' },
      { file: '/x.yaml', serviceAccount: 'other' },
    );
    expect(run.metadata).toMatchObject({
      name: 'spark-pi-2',
      namespace: 'jobs',
      labels: { 'koala.dev/app': 'spark-pi' },
    });
    expect(run.spec).toMatchObject({ ...source.spec, driver: { ...source.spec.driver, serviceAccount: 'other' } });
    expect(source.spec.driver?.serviceAccount).toBe('spark-operator-spark');
  });

  it('refuses a file without exactly one SparkApplication or with a templated name', async () => {
    const dir = tmp();
    const templated = path.join(dir, 't.yaml');
    writeFileSync(
      templated,
      'apiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\nmetadata:\n  name: "pi-{{ ds }}"\nspec: {}\n',
    );
    await expect(loadManifestFile(templated)).rejects.toThrow(/no templates like/);
    const none = path.join(dir, 'n.yaml');
    writeFileSync(none, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n');
    await expect(loadManifestFile(none)).rejects.toThrow(
      /no SparkApplication in the file \(found: ConfigMap x \(line 1\)\)/,
    );
  });
});

describe('the build context hash (the image tag)', () => {
  it("is stable, ignores .dockerignore'd files, and changes with code, modes and build args", async () => {
    const dir = tmp();
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'Dockerfile'), 'FROM x\n');
    writeFileSync(path.join(dir, 'app.py'), 'print(1)\n');
    writeFileSync(path.join(dir, 'data/g.txt'), '1 2\n');
    writeFileSync(path.join(dir, '.dockerignore'), '# comment\n*.md\noutput/\n');
    const base = await hashBuildContext(dir);
    expect(base.tag).toMatch(/^[0-9a-f]{16}$/);
    expect((await hashBuildContext(dir)).digest).toBe(base.digest);
    writeFileSync(path.join(dir, 'NOTES.md'), 'ignored');
    mkdirSync(path.join(dir, 'output'));
    writeFileSync(path.join(dir, 'output/part-0'), 'ignored');
    expect((await hashBuildContext(dir)).digest).toBe(base.digest);
    expect((await hashBuildContext(dir, { buildArgs: { SPARK_IMAGE: 'y' } })).digest).not.toBe(base.digest);
    writeFileSync(path.join(dir, 'app.py'), 'print(2)\n');
    expect((await hashBuildContext(dir)).digest).not.toBe(base.digest);
  });
});

describe('small parsers', () => {
  it('counts layers docker push sent and skipped', () => {
    expect(
      countPushedLayers(
        [
          'The push refers to repository [localhost:5001/koala/a]',
          '5f70bf18a086: Pushed',
          '1a2b3c4d5e6f: Layer already exists',
          '9f8e7d6c5b4a: Mounted from koala/b',
          'abc: digest: sha256:00 size: 3',
          '',
        ].join('\n'),
      ),
    ).toEqual({ layersPushed: 1, layersReused: 2 });
  });

  it('splits and normalises log timestamps so they compare as strings', () => {
    expect(splitTimestamp('2026-11-22T02:00:01Z hello world')).toEqual({
      stamp: '2026-11-22T02:00:01.000000000Z',
      line: 'hello world',
    });
    expect(
      splitTimestamp('2026-11-22T02:00:01.5Z x').stamp! > splitTimestamp('2026-11-22T02:00:01.123456789Z y').stamp!,
    ).toBe(true);
    expect(splitTimestamp('no stamp')).toEqual({ line: 'no stamp' });
  });

  it('summarises a run: state, age, duration, driver', () => {
    const app = {
      apiVersion: 'sparkoperator.k8s.io/v1beta2',
      kind: 'SparkApplication',
      metadata: {
        name: 'pi-3',
        namespace: 'jobs',
        labels: { 'koala.dev/app': 'pi', 'koala.dev/run-number': '3' },
        creationTimestamp: new Date('2026-01-01T00:00:00Z'),
      },
      spec: {},
      status: {
        applicationState: { state: 'COMPLETED' },
        lastSubmissionAttemptTime: '2026-01-01T00:00:02Z',
        terminationTime: '2026-01-01T00:01:32Z',
        driverInfo: { podName: 'pi-3-driver' },
      },
    } as unknown as SparkApplication;
    expect(summarize(app, Date.parse('2026-01-01T00:10:00Z'))).toMatchObject({
      name: 'pi-3',
      app: 'pi',
      run: 3,
      state: 'COMPLETED',
      ageSeconds: 600,
      durationSeconds: 90,
      driverPod: 'pi-3-driver',
    });
  });
});

describe('which namespaces the operator watches', () => {
  const fakeKube = (deployments: unknown[]) =>
    ({ raw: async () => ({ status: 200, body: JSON.stringify({ items: deployments }) }) }) as unknown as Kube;
  const operator = (args: string[]) => ({
    metadata: { name: 'spark-operator-controller', namespace: 'spark-operator' },
    spec: { template: { spec: { containers: [{ name: 'c', args }] } } },
  });
  const platform = sparkPlatform({ ...defaultConfig('/p'), spark: { jobNamespaces: ['from-config'] } });

  it('reads --namespaces from the operator Deployment, "" meaning all', async () => {
    expect(
      await watchedNamespaces(fakeKube([operator(['controller', 'start', '--namespaces=a,b'])]), platform),
    ).toMatchObject({
      namespaces: ['a', 'b'],
      source: expect.stringMatching(/spark-operator\/spark-operator-controller/),
    });
    expect((await watchedNamespaces(fakeKube([operator(['--namespaces='])]), platform)).namespaces).toBe('all');
  });

  it('falls back to spark.jobNamespaces when no operator Deployment is found', async () => {
    expect(await watchedNamespaces(fakeKube([]), platform)).toEqual({
      namespaces: ['from-config'],
      source: 'spark.jobNamespaces in koala.yaml',
    });
  });
});
