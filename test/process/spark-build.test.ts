import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { koala, startKoala, waitForOutput } from '../support/cli.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import { finishDriver, useSparkOperator } from '../support/spark.ts';
import { kubectl, useNamespace } from '../support/testbed.ts';
import { jobsWorld } from './jobs-world.ts';
import { jsonDocument } from '../support/json-documents.ts';

/**
 * `koala new spark-app`, `koala build` and `koala run <app>` with real Docker and a real
 * registry (koala-test/registry:3), the base image swapped for a local one through the
 * Dockerfile's SPARK_IMAGE build argument (nothing can be pulled here), and the real operator.
 */
const BASE = 'SPARK_IMAGE=koala-test/python:1';
const ns = useNamespace('spark-build');
const airflowNs = useNamespace('spark-build-airflow');
useSparkOperator(() => [ns.name]);
let registryPort = 0;

let registry: TestRegistry | undefined;

beforeAll(async () => {
  registry = await startRegistry(`koala-test-registry-${process.pid}`, ['koala-test/python:1']);
  registryPort = registry.port;
});
afterAll(() => registry?.stop());

describe('koala new spark-app / build / run <app> (real Docker, registry and operator)', () => {
  it('scaffolds, builds and pushes once, skips an unchanged app, pushes one layer for a code change', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name], registryPort, fakes: [] });
    const created = await koala(world, ['new', 'spark-app', 'pagerank']);
    expect(created.code, created.stderr).toBe(0);
    const dir = path.join(world.project, 'spark-applications/pagerank');
    for (const f of ['Dockerfile', 'spark-app.yaml', 'pagerank.py', 'data/pagerank_data.txt', '.dockerignore'])
      expect(existsSync(path.join(dir, f)), f).toBe(true);
    expect(readFileSync(path.join(dir, 'Dockerfile'), 'utf8')).toMatch(/^ARG SPARK_IMAGE=apache\/spark:4\.0\.\d+$/m);
    expect(readFileSync(path.join(dir, 'spark-app.yaml'), 'utf8')).toMatch(/instances: 3/);
    const again = await koala(world, ['new', 'spark-app', 'pagerank']);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists/);

    const first = await koala(world, ['build', 'pagerank', '--build-arg', BASE, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const one = jsonDocument('build', first.stdout);
    expect(one).toMatchObject({
      built: true,
      delivered: true,
      image: `localhost:${registryPort}/koala/pagerank:${one.context.tag}`,
    });
    expect(one.layersPushed).toBeGreaterThanOrEqual(2);
    expect(
      (await fetch(`http://127.0.0.1:${registryPort}/v2/koala/pagerank/tags/list`).then((r) => r.json())) as {
        tags: string[];
      },
    ).toMatchObject({ tags: [one.context.tag] });

    const second = await koala(world, ['build', 'pagerank', '--build-arg', BASE, '--json', '--verbose']);
    expect(second.code, second.stderr).toBe(0);
    expect(jsonDocument('build', second.stdout)).toMatchObject({
      image: one.image,
      built: false,
      delivered: false,
      layersPushed: 0,
    });
    expect(second.stderr).not.toMatch(/\$ docker (build|push)/);

    const code = path.join(dir, 'pagerank.py');
    writeFileSync(
      code,
      readFileSync(code, 'utf8').replace('DAMPING = 0.85', 'DAMPING = 0.85  # the usual damping factor'),
    );
    const third = jsonDocument(
      'build',
      (await koala(world, ['build', 'pagerank', '--build-arg', BASE, '--json'])).stdout,
    );
    expect(third.image).not.toBe(one.image);
    expect(third).toMatchObject({ built: true, delivered: true, layersPushed: 1 });
    expect(third.layersReused).toBeGreaterThanOrEqual(2);
  });

  it('--load hands the image to `kind load` once, and not again while it is unchanged', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name], registryPort, fakes: [] });
    const log = path.join(world.dir, 'kind-calls.log');
    const fakeKind = path.join(world.dir, 'kind');
    writeFileSync(fakeKind, `#!/bin/sh\necho "$*" >> '${log}'\n`);
    chmodSync(fakeKind, 0o755);
    expect((await koala(world, ['new', 'spark-app', 'loaded'])).code).toBe(0);
    const env = { KOALA_KIND: fakeKind };
    const first = await koala(world, ['build', 'loaded', '--load', '--build-arg', BASE, '--json'], { env });
    expect(first.code, first.stderr).toBe(0);
    const image = jsonDocument('build', first.stdout).image;
    expect(image).toMatch(/^koala\.local\/loaded:[0-9a-f]{16}$/);
    expect(readFileSync(log, 'utf8').trim()).toBe(`load docker-image ${image} --name ${world.cluster}`);
    const second = await koala(world, ['build', 'loaded', '--load', '--build-arg', BASE, '--json'], { env });
    expect(jsonDocument('build', second.stdout)).toMatchObject({ built: false, delivered: false });
    expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('run <app> builds if needed, submits the rendered SparkApplication and exits 0 when it completes', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name], registryPort, fakes: [] });
    expect((await koala(world, ['new', 'spark-app', 'ranks'])).code).toBe(0);
    // The object store's Secret is checked before submitting (the component creates it).
    const noSecret = await koala(world, ['run', 'ranks', '--build-arg', BASE]);
    expect(noSecret.code).toBe(1);
    expect(noSecret.stderr).toMatch(/Secret object-store-s3 does not exist in namespace/);
    kubectl([
      '-n',
      ns.name,
      'create',
      'secret',
      'generic',
      'object-store-s3',
      '--from-literal=AWS_ACCESS_KEY_ID=test',
      '--from-literal=AWS_SECRET_ACCESS_KEY=test',
    ]);
    const run = startKoala(world, ['run', 'ranks', '--build-arg', BASE]);
    await waitForOutput(run.output, /submitted .*ranks-1/, 120_000);
    await finishDriver(ns.name, 'ranks-1', 'succeeded');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toMatch(/image localhost:\d+\/koala\/ranks:[0-9a-f]{16}: built, pushed/);
    const app = JSON.parse(kubectl(['-n', ns.name, 'get', 'sparkapplication', 'ranks-1', '-o', 'json'])) as {
      spec: Record<string, unknown> & { sparkConf: Record<string, string>; executor: { instances: number } };
    };
    expect(app.spec).toMatchObject({
      type: 'Python',
      mainApplicationFile: 'local:///app/pagerank.py',
      imagePullPolicy: 'IfNotPresent',
      executor: { instances: 3 },
    });
    expect(app.spec.image).toMatch(new RegExp(`^localhost:${registryPort}/koala/ranks:[0-9a-f]{16}$`));
    expect(app.spec.sparkConf).toMatchObject({
      'spark.kubernetes.driverEnv.PAGERANK_ITERATIONS': '10',
      'spark.executorEnv.PAGERANK_INPUT': '/app/data/pagerank_data.txt',
    });
    expect(app.spec.sparkConf['spark.kubernetes.driver.secretKeyRef.AWS_ACCESS_KEY_ID']).toMatch(
      /^[\w-]+:AWS_ACCESS_KEY_ID$/,
    );

    // The second run of the unchanged app: no build, no push, a new run name.
    const rerun = startKoala(world, ['run', 'ranks', '--build-arg', BASE, '--verbose']);
    await waitForOutput(rerun.output, /submitted .*ranks-2/);
    expect(rerun.output()).toMatch(/unchanged, nothing built or pushed/);
    expect(rerun.output()).not.toMatch(/\$ docker (build|push)/);
    await finishDriver(ns.name, 'ranks-2', 'succeeded');
    expect((await rerun.done).code).toBe(0);
  });

  it("dags sync renders each app's DAG SparkApplication at its current image, and follows the app", async () => {
    const world = jobsWorld({
      jobNamespaces: [ns.name],
      registryPort,
      fakes: [],
      extraYaml: ['images:', '  spark: koala-test/python:1', 'namespaces:', `  airflow: ${airflowNs.name}`].join('\n'),
    });
    const created = jsonDocument(
      'new spark-app',
      (await koala(world, ['new', 'spark-app', 'nightly', '--json'])).stdout,
    );
    expect(created.dag).toBe(path.join(world.project, 'dags', 'nightly.py'));
    const rendered = path.join(world.project, 'dags', 'nightly.sparkapplication.yaml');

    const first = await koala(world, ['dags', 'sync', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const one = jsonDocument('dags sync', first.stdout);
    expect(one.apps).toMatchObject([{ app: 'nightly', file: rendered, changed: true, built: true }]);
    expect(one.apps[0]!.image).toMatch(new RegExp(`^localhost:${registryPort}/koala/nightly:[0-9a-f]{16}$`));
    const yaml = readFileSync(rendered, 'utf8');
    expect(yaml).toContain(`image: ${one.apps[0]!.image}`);
    expect(yaml).toMatch(/kind: SparkApplication/);
    expect(yaml).toContain(`namespace: ${ns.name}`);
    const published = kubectl([
      '-n',
      airflowNs.name,
      'get',
      'configmap',
      'airflow-dags',
      '-o',
      'jsonpath={.data.dags\\.json}',
    ]);
    expect(Object.keys((JSON.parse(published) as { files: Record<string, string> }).files).sort()).toEqual([
      'nightly.py',
      'nightly.sparkapplication.yaml',
    ]);

    // Unchanged: nothing built, the file as it was, the ConfigMap as it was.
    const two = jsonDocument('dags sync', (await koala(world, ['dags', 'sync', '--json'])).stdout);
    expect(two.apps).toMatchObject([{ changed: false, built: false, image: one.apps[0]!.image }]);
    expect(two.detail).toMatch(/unchanged/);

    // The app changes: a new image, and the DAG's SparkApplication follows it.
    const main = path.join(world.project, 'spark-applications/nightly/pagerank.py');
    writeFileSync(main, `${readFileSync(main, 'utf8')}\n# changed\n`);
    const three = jsonDocument('dags sync', (await koala(world, ['dags', 'sync', '--json'])).stdout);
    expect(three.apps).toMatchObject([{ changed: true, built: true }]);
    expect(three.apps[0]!.image).not.toBe(one.apps[0]!.image);
    expect(readFileSync(rendered, 'utf8')).toContain(`image: ${three.apps[0]!.image}`);
  });
});
