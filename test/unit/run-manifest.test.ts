import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadPins } from '../../src/charts/pins.ts';
import { sparkOperatorValues } from '../../src/components/spark-operator/index.ts';
import { defaultConfig } from '../../src/config/schema.ts';
import { loadManifestFile } from '../../src/jobs/manifest-file.ts';
import { ignoredFields, operatorFeatures, referencedObjects } from '../../src/jobs/references.ts';
import { compactSchema, schemaAssetFromCrd, SCHEMA_ASSET, type SchemaAsset } from '../../src/jobs/schema.ts';
import { podProblem, waitLeft } from '../../src/jobs/stuck.ts';
import { otherSources, pruneRuns } from '../../src/jobs/submit.ts';
import type { Kube } from '../../src/kube/client.ts';
import { ConfigError } from '../../src/util/errors.ts';
import { assetPath } from '../../src/util/paths.ts';
import { sparkOperatorFixtures } from '../support/fixtures.ts';

/** `koala run -f` before any cluster: what a manifest file holds and whether it is valid. */
const FIXTURES = sparkOperatorFixtures();
const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-manifest-'));
const write = (name: string, text: string): string => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};
const APP = [
  'apiVersion: sparkoperator.k8s.io/v1beta2', // line 1
  'kind: SparkApplication',
  'metadata:',
  '  name: pi',
  'spec:', // line 5
  '  type: Python',
  '  mode: cluster',
  '  sparkVersion: 4.0.4',
  '  mainApplicationFile: local:///x.py',
  '  driver: {cores: 1}', // line 10
  '  executor: {instances: 1}',
];
const lines = (...parts: Array<string | string[]>): string => [...parts.flat(), ''].join('\n');
const problemsOf = async (file: string): Promise<string> => {
  const error = await loadManifestFile(file).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).exitCode).toBe(2);
  return (error as ConfigError).message;
};

describe('the pinned SparkApplication schema', () => {
  it('is the CRD of the spark-operator chart koala pins, without descriptions', () => {
    const asset = JSON.parse(readFileSync(assetPath(...SCHEMA_ASSET), 'utf8')) as SchemaAsset;
    type Pins = { charts: Record<string, { version: string }> };
    const pins = parse(readFileSync(assetPath('charts', 'pins.yaml'), 'utf8')) as Pins;
    expect(asset.source.version).toBe(pins.charts['spark-operator']!.version);
    expect(path.basename(FIXTURES)).toBe(`spark-operator-${asset.source.version}`);
    const crd = parse(readFileSync(path.join(FIXTURES, 'sparkoperator.k8s.io_sparkapplications.yaml'), 'utf8'));
    expect(asset).toEqual(schemaAssetFromCrd(crd, asset.source.version));
    expect(JSON.stringify(asset)).not.toContain('"description"');
    expect(compactSchema({ type: 'string', description: 'x', default: 'a' })).toEqual({ type: 'string' });
  });

  it("accepts the operator's own examples", async () => {
    for (const example of ['example-spark-pi.yaml', 'example-spark-pi-python.yaml']) {
      const source = await loadManifestFile(path.join(FIXTURES, example));
      expect(source.app.kind).toBe('SparkApplication');
      expect(source.companions).toEqual([]);
    }
  });

  it('rejects a wrong spec.type, a bad bound and an unknown field at their lines, with no cluster', async () => {
    const tail = ['  executor: {instances: 0}', '  drivr: {}'];
    const file = write('bad.yaml', lines(APP.slice(0, 5), '  type: Pyton', APP.slice(6, 10), tail));
    const message = await problemsOf(file);
    expect(message).toContain(`${file}:6: spec.type: Unsupported value: "Pyton" (accepted: Java, Python, Scala, R)`);
    const instances = 'spec.executor.instances: Invalid value: 0: should be greater than or equal to 1';
    expect(message).toContain(`${file}:11: ${instances}`);
    expect(message).toContain(`${file}:12: spec.drivr: unknown field`);
  });

  it('rejects a volumeMount of an undeclared volume, naming the field', async () => {
    const mounts = ['  driver:', '    cores: 1', '    volumeMounts: [{name: conf, mountPath: /etc/conf}]'];
    const file = write('mount.yaml', lines(APP.slice(0, 9), mounts, APP.slice(10)));
    const message = await problemsOf(file);
    const field = 'spec.driver.volumeMounts.0.name';
    expect(message).toContain(`${file}:12: ${field}: volume "conf" is not declared in spec.volumes`);
  });
});

describe('what a manifest file holds', () => {
  it('keeps the ConfigMaps and Secrets beside the SparkApplication', async () => {
    const configMap = ['apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: conf, namespace: x}', 'data: {a: b}'];
    const secret = ['apiVersion: v1', 'kind: Secret', 'metadata: {name: token}', 'stringData: {t: x}'];
    const file = write('multi.yaml', lines(configMap, '---', APP, '---', secret));
    const source = await loadManifestFile(file);
    expect(source.app.metadata.name).toBe('pi');
    expect(source.companions.map((c) => `${c.kind}/${c.metadata.name}`)).toEqual(['ConfigMap/conf', 'Secret/token']);
  });

  it('refuses other kinds, listing each one that would be left out', async () => {
    const service = ['apiVersion: v1', 'kind: Service', 'metadata: {name: ui}'];
    const deployment = ['apiVersion: apps/v1', 'kind: Deployment', 'metadata: {name: d}'];
    const file = write('svc.yaml', lines(APP, '---', service, '---', deployment));
    const message = await problemsOf(file);
    expect(message).toContain(`${file}:13: kind: Service ui (line 13) would be left out`);
    expect(message).toContain(`${file}:17: kind: Deployment d (line 17) would be left out`);
  });

  it("runs a ScheduledSparkApplication's template once, saying schedules are not run", async () => {
    const template = APP.slice(5).map((l) => `    ${l}`);
    const head = [APP[0]!, 'kind: ScheduledSparkApplication', 'metadata: {name: nightly}'];
    const file = write('scheduled.yaml', lines(head, 'spec:', '  schedule: "@every 1h"', '  template:', template));
    const source = await loadManifestFile(file);
    const spec = { type: 'Python', executor: { instances: 1 } };
    expect(source.app).toMatchObject({ kind: 'SparkApplication', metadata: { name: 'nightly' }, spec });
    const notice = 'koala does not run schedules yet ("@every 1h"); running its template once now';
    const howTo = '(kubectl apply -f lets the operator schedule it)';
    expect(source.notices).toEqual([`ScheduledSparkApplication nightly: ${notice} ${howTo}`]);
    const bad = write('scheduled-bad.yaml', readFileSync(file, 'utf8').replace('type: Python', 'type: Pyton'));
    expect(await problemsOf(bad)).toContain(`${bad}:7: spec.template.type: Unsupported value: "Pyton"`);
  });

  it('says an empty file is empty, and names the kinds of a file without an app', async () => {
    expect(await problemsOf(write('empty.yaml', ''))).toContain('empty.yaml: (file): is empty');
    expect(await problemsOf(write('comments.yaml', '# nothing\n---\n'))).toContain('is empty');
    const configMapOnly = write('cm.yaml', lines('apiVersion: v1', 'kind: ConfigMap', 'metadata: {name: x}'));
    expect(await problemsOf(configMapOnly)).toContain('no SparkApplication in the file (found: ConfigMap x (line 1))');
  });

  it('reports a YAML syntax error at the line where the parser stopped', async () => {
    const file = write('syntax.yaml', lines(APP.slice(0, 8), '  arguments: ["a", "b"', APP[8]!));
    const message = await problemsOf(file);
    expect(message).toMatch(new RegExp(`${file.replace(/[.]/g, '\\.')}:(9|10): \\(syntax\\): `));
    expect(message).not.toContain(`${file}:1:`);
  });
});

describe('references and ignored fields', () => {
  it('lists the ConfigMaps, Secrets and claims the pods need, leaving optional ones out', () => {
    const refs = referencedObjects({
      volumes: [
        { name: 'c', configMap: { name: 'conf' } },
        { name: 's', secret: { secretName: 'tls', optional: true } },
        { name: 'p', persistentVolumeClaim: { claimName: 'data' } },
      ],
      driver: {
        envFrom: [{ secretRef: { name: 'creds' } }],
        env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'env', key: 'x' } } }],
      },
      executor: { configMaps: [{ name: 'more', path: '/m' }] },
      sparkConf: { 'spark.kubernetes.driver.secretKeyRef.AWS_KEY': 's3:key' },
    });
    expect(refs.map((r) => `${r.kind} ${r.name} ${r.field}`)).toEqual([
      'ConfigMap conf spec.volumes[0].configMap.name',
      'PersistentVolumeClaim data spec.volumes[2].persistentVolumeClaim.claimName',
      'Secret creds spec.driver.envFrom[0].secretRef.name',
      'ConfigMap env spec.driver.env[0].valueFrom.configMapKeyRef.name',
      'ConfigMap more spec.executor.configMaps[0].name',
      'Secret s3 spec.sparkConf["spark.kubernetes.driver.secretKeyRef.AWS_KEY"]',
    ]);
  });

  it('says which fields the installed operator ignores, following koala.yaml overrides', async () => {
    const config = defaultConfig('/p');
    const values = sparkOperatorValues(config, await loadPins()) as { webhook: { enable: boolean } };
    const features = operatorFeatures(config);
    expect(features).toEqual({ batchScheduler: false, uiIngress: false, webhook: values.webhook.enable });
    const spec = { batchScheduler: 'volcano', sparkUIOptions: { ingressAnnotations: { a: 'b' } } };
    const notices = ignoredFields(spec, operatorFeatures(config));
    expect(notices).toEqual([
      expect.stringMatching(/^spec\.batchScheduler \(volcano\) is ignored: /),
      expect.stringMatching(/^spec\.sparkUIOptions\.ingressAnnotations ignored/),
    ]);
    const values2 = { controller: { batchScheduler: { enable: true } } };
    const components = { ...config.components, 'spark-operator': { enabled: true, values: values2 } };
    const enabled = { ...config, components };
    expect(ignoredFields({ batchScheduler: 'volcano' }, operatorFeatures(enabled as typeof config))).toEqual([]);
  });
});

describe('a driver that cannot start', () => {
  const pod = (status: V1Pod['status']): V1Pod => ({ metadata: { name: 'p' }, status });
  it("names the scheduler's and the kubelet's reason", () => {
    const message = '0/3 nodes are available: 3 Insufficient memory.';
    const unschedulable = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message };
    const pending = pod({ phase: 'Pending', conditions: [unschedulable] });
    expect(podProblem(pending)).toEqual({ reason: 'Unschedulable', message });
    const waiting = (reason: string, text?: string): V1Pod =>
      pod({
        containerStatuses: [
          {
            name: 'c',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason, message: text } },
          },
        ],
      });
    const configError = { reason: 'CreateContainerConfigError', message: 'configmap "conf" not found' };
    expect(podProblem(waiting(configError.reason, configError.message))).toMatchObject(configError);
    expect(podProblem(waiting('ContainerCreating'))).toBeUndefined();
  });

  it('stops at once on an image pull back-off, after a grace period on a config error, never on scheduling', () => {
    expect(waitLeft({ reason: 'ImagePullBackOff', message: '' }, 0, 0, 30_000)).toBe(0);
    expect(waitLeft({ reason: 'CreateContainerConfigError', message: '' }, 1_000, 21_000, 30_000)).toBe(10_000);
    expect(waitLeft({ reason: 'CreateContainerConfigError', message: '' }, 1_000, 40_000, 30_000)).toBe(0);
    expect(waitLeft({ reason: 'Unschedulable', message: '' }, 0, 10 ** 9, 30_000)).toBeUndefined();
  });
});

describe('runs of two files that share a name', () => {
  const run = (n: number, source: string, state = 'COMPLETED') => ({
    apiVersion: 'sparkoperator.k8s.io/v1beta2',
    kind: 'SparkApplication',
    metadata: {
      name: `pi-${n}`,
      namespace: 'jobs',
      labels: { 'koala.dev/app': 'pi', 'koala.dev/run-number': String(n) },
      annotations: { 'koala.dev/source': source },
    },
    spec: {},
    status: { applicationState: { state } },
  });
  const fakeKube = (items: unknown[]) => {
    const deleted: string[] = [];
    const kube = {
      raw: async () => ({ status: 200, body: JSON.stringify({ items }) }),
      delete: async (h: { metadata: { name: string } }) => (deleted.push(h.metadata.name), true),
    } as unknown as Kube;
    return { kube, deleted };
  };

  it('prunes only the runs of the same file, and names the other file', async () => {
    const runs = [run(1, '/a.yaml'), run(2, '/b.yaml'), run(3, '/b.yaml'), run(4, '/a.yaml'), run(5, '/a.yaml')];
    const { kube, deleted } = fakeKube(runs);
    expect(await pruneRuns(kube, 'jobs', 'pi', 1, '/b.yaml')).toEqual(['pi-2']);
    expect(deleted).toEqual(['pi-2']);
    expect(await otherSources(kube, 'jobs', 'pi', '/b.yaml')).toEqual(['/a.yaml']);
  });
});
