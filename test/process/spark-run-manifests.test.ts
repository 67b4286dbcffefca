import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { koala, startKoala, waitForOutput } from '../support/cli.ts';
import { criLines, FIXTURES, finishDriver, serveLogs, useSparkOperator } from '../support/spark.ts';
import { kubectl, testbedKube, useNamespace } from '../support/testbed.ts';
import { jobsWorld } from './jobs-world.ts';
import { jsonDocument } from '../support/json-documents.ts';

/**
 * `koala run -f` with the manifests users already have, against the real Spark operator and
 * scheduler of the test bed: files with ConfigMaps and Secrets beside the app, a
 * ScheduledSparkApplication, a driver that cannot be scheduled, and checks that need no cluster.
 */
const ns = useNamespace('spark-manifests');
useSparkOperator(() => [ns.name]);
const logDir = mkdtempSync(path.join(os.tmpdir(), 'koala-driver-log-'));

beforeAll(async () => {
  const driverLog = path.join(logDir, 'driver.log');
  writeFileSync(driverLog, criLines(['Pi is roughly 3.14', 'Successfully stopped SparkContext']));
  await serveLogs(await testbedKube(), ns.name, driverLog);
});

type Doc = Record<string, unknown> & { metadata: Record<string, unknown>; spec: Record<string, unknown> };
/** The operator's Python example under another name, as a document to change. */
const example = (name: string): Doc => {
  const doc = parse(readFileSync(path.join(FIXTURES, 'example-spark-pi-python.yaml'), 'utf8')) as Doc;
  doc.metadata = { name };
  return doc;
};
const file = (dir: string, name: string, docs: unknown[]): string => {
  const target = path.join(dir, name);
  writeFileSync(target, docs.map((d) => stringify(d)).join('---\n'));
  return target;
};
const get = (what: string[], jsonpath: string): string =>
  kubectl(['-n', ns.name, 'get', ...what, '-o', `jsonpath=${jsonpath}`]);
const v1 = (kind: string, metadata: object, rest: object = {}): object => ({
  apiVersion: 'v1',
  kind,
  metadata,
  ...rest,
});
const names = (kind: string): string => get([kind], '{.items[*].metadata.name}');

describe('koala run -f with the manifests users have (real operator, real scheduler)', () => {
  it('applies the ConfigMap and Secret of a multi-document file with the run, in the namespace -n names', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    const app = example('multi');
    app.spec.volumes = [{ name: 'conf', configMap: { name: 'multi-conf' } }];
    app.spec.driver = {
      ...(app.spec.driver as object),
      volumeMounts: [{ name: 'conf', mountPath: '/etc/multi' }],
      envFrom: [{ secretRef: { name: 'multi-token' } }],
    };
    const configMap = v1('ConfigMap', { name: 'multi-conf', namespace: 'elsewhere' }, { data: { c: 'x=1' } });
    const secret = v1('Secret', { name: 'multi-token' }, { stringData: { TOKEN: 's3cr3t' } });
    const target = file(world.project, 'multi.yaml', [configMap, app, secret]);

    const run = startKoala(world, ['run', '-f', target, '-n', ns.name]);
    await waitForOutput(run.output, /submitted .*multi-1/);
    await finishDriver(ns.name, 'multi-1', 'succeeded');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    const out = result.stdout + result.stderr;
    expect(out).toContain(`notice: ConfigMap multi-conf: applied in ${ns.name} with the run, not in elsewhere`);
    expect(out).toContain(`applied ConfigMap multi-conf, Secret multi-token in ${ns.name}`);
    expect(get(['configmap', 'multi-conf'], '{.data.c} {.metadata.labels.koala\\.dev/app}')).toBe('x=1 multi');
    expect(get(['secret', 'multi-token'], '{.data.TOKEN}')).toBe(Buffer.from('s3cr3t').toString('base64'));
    expect(out).not.toContain('s3cr3t');
  });

  it('refuses, before anything changes, a file with kinds it would leave out, naming each (exit 2)', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    const configMap = v1('ConfigMap', { name: 'leftout-conf' }, { data: { a: 'b' } });
    const service = v1('Service', { name: 'leftout-ui' }, { spec: { ports: [{ port: 80 }] } });
    const target = file(world.project, 'leftout.yaml', [configMap, example('leftout'), service]);
    const result = await koala(world, ['run', '-f', target, '-n', ns.name]);
    expect(result.code).toBe(2);
    const leftOut = `${target}:(\\d+): kind: Service leftout-ui \\(line \\1\\) would be left out`;
    expect(result.stderr).toMatch(new RegExp(leftOut));
    expect(result.stderr).toMatch(/→ Apply those objects yourself/);
    expect(names('configmaps')).not.toContain('leftout-conf');
    expect(names('sparkapplications')).not.toContain('leftout');
  });

  it('refuses a file whose pods need a ConfigMap that neither the file nor the namespace has (exit 2)', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    const app = example('needs');
    app.spec.volumes = [{ name: 'conf', configMap: { name: 'absent-conf' } }];
    const result = await koala(world, ['run', '-f', file(world.project, 'needs.yaml', [app]), '-n', ns.name]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`uses objects that are not in namespace "${ns.name}"`));
    expect(result.stderr).toContain('ConfigMap absent-conf (spec.volumes[0].configMap.name)');
    expect(result.stderr).toMatch(/→ Create them in .*or add them to/);
    expect(names('sparkapplications')).not.toContain('needs');
  });

  it('shows why an unschedulable driver waits, and stops with the fix when its image cannot be pulled', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    const app = example('huge');
    app.spec.driver = { ...(app.spec.driver as object), memory: '4000g' };
    const run = startKoala(world, ['run', '-f', file(world.project, 'huge.yaml', [app]), '-n', ns.name]);
    // The real scheduler's verdict, as the pod's condition says it.
    const why = /driver huge-1-driver waiting: Unschedulable: 0\/\d+ nodes are available: .*Insufficient memory/;
    await waitForOutput(run.output, why, 120_000);
    expect(run.child.exitCode).toBeNull();
    // What a kubelet reports for an image it cannot pull (kwok pulls nothing).
    const waiting = { reason: 'ImagePullBackOff', message: 'Back-off pulling image "spark:py"' };
    const state = { waiting };
    const container = { name: 'spark-kubernetes-driver', image: 'spark:py', ready: false, restartCount: 0, state };
    const patch = JSON.stringify({ status: { containerStatuses: [container] } });
    kubectl(['-n', ns.name, 'patch', 'pod', 'huge-1-driver', '--subresource=status', '--type=merge', '-p', patch]);
    const result = await run.done;
    expect(result.code).toBe(1);
    const error = `Error: huge-1's driver huge-1-driver cannot start: ${waiting.reason}: ${waiting.message}`;
    expect(result.stderr).toContain(error);
    expect(result.stderr).toMatch(/→ Check that the image .* exists and the cluster can pull it/);
    expect(result.stderr).toContain('`koala apps delete huge-1` removes it');
    await koala(world, ['apps', 'delete', 'huge-1']);
  });

  it("runs a ScheduledSparkApplication's template once, saying schedules are not run yet", async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    const spec = { schedule: '@every 1h', concurrencyPolicy: 'Forbid', template: example('x').spec };
    const apiVersion = 'sparkoperator.k8s.io/v1beta2';
    const scheduled = { apiVersion, kind: 'ScheduledSparkApplication', metadata: { name: 'nightly' }, spec };
    const run = startKoala(world, ['run', '-f', file(world.project, 'nightly.yaml', [scheduled]), '-n', ns.name]);
    await waitForOutput(run.output, /submitted .*nightly-1/);
    await finishDriver(ns.name, 'nightly-1', 'succeeded');
    const result = await run.done;
    expect(result.code, result.stderr).toBe(0);
    const notice = 'ScheduledSparkApplication nightly: koala does not run schedules yet ("@every 1h"); running its';
    expect(result.stdout + result.stderr).toContain(notice);
  });

  it('two files with one metadata.name: a notice names the other file, and pruning keeps its runs', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    const dirB = path.join(world.project, 'b');
    mkdirSync(dirB);
    const a = file(world.project, 'shared.yaml', [example('shared')]);
    const b = file(dirB, 'shared.yaml', [example('shared')]);
    for (const [target, n] of [
      [a, 1],
      [b, 2],
    ] as const) {
      const run = startKoala(world, ['run', '-f', target, '-n', ns.name, '--keep-runs', '1']);
      await waitForOutput(run.output, new RegExp(`submitted .*shared-${n}`));
      await finishDriver(ns.name, `shared-${n}`, 'succeeded');
      const result = await run.done;
      expect(result.code, result.stderr).toBe(0);
      const notice = `notice: runs named shared-<n> in ${ns.name} also come from ${a}`;
      if (n === 2) expect(result.stdout + result.stderr).toContain(notice);
      else expect(result.stdout + result.stderr).not.toContain('notice:');
    }
    // Two finished runs named shared, one per file: with --keep-runs 1, b's new run prunes none of a's.
    const third = await koala(world, ['run', '-f', b, '-n', ns.name, '--keep-runs', '1', '--detach', '--json']);
    expect(jsonDocument('run', third.stdout)).toMatchObject({ run: 'shared-3', pruned: [] });
    expect(names('sparkapplications').split(' ')).toEqual(expect.arrayContaining(['shared-1', 'shared-2', 'shared-3']));
    await finishDriver(ns.name, 'shared-3', 'succeeded');
  }, 420_000); // three runs followed to the end: minutes on a loaded two-core machine
});

describe('koala run -f before any cluster', () => {
  const noCluster = () => {
    const world = jobsWorld({ jobNamespaces: ['spark-jobs'] });
    world.env.KUBECONFIG = path.join(world.dir, 'no-such-kubeconfig');
    return world;
  };

  it('reports a wrong spec.type at its line, not a missing kubeconfig context (exit 2)', async () => {
    const world = noCluster();
    const target = path.join(world.project, 'typo.yaml');
    const text = readFileSync(path.join(FIXTURES, 'example-spark-pi-python.yaml'), 'utf8');
    writeFileSync(target, text.replace('type: Python', 'type: Pyton'));
    const result = await koala(world, ['run', '-f', target]);
    expect(result.code).toBe(2);
    const line = text.split('\n').findIndex((l) => l.includes('type: Python')) + 1;
    const accepted = '(accepted: Java, Python, Scala, R)';
    expect(result.stderr).toContain(`${target}:${line}: spec.type: Unsupported value: "Pyton" ${accepted}`);
    expect(result.stderr).not.toMatch(/context/);
  });

  it('--dry-run prints what would be submitted, with a notice for fields the platform ignores', async () => {
    const world = noCluster();
    const app = example('dry');
    app.spec.batchScheduler = 'volcano';
    const secret = v1('Secret', { name: 'dry-token' }, { stringData: { TOKEN: 'hush' } });
    const result = await koala(world, ['run', '-f', file(world.project, 'dry.yaml', [secret, app]), '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    const [shownSecret, shownApp] = result.stdout.split('\n---\n').map((d) => parse(d) as Doc);
    expect(shownSecret).toMatchObject({ kind: 'Secret', stringData: { TOKEN: '(redacted)' } });
    const metadata = { name: 'dry-<n>', namespace: 'spark-jobs' };
    expect(shownApp).toMatchObject({ kind: 'SparkApplication', metadata });
    expect(result.stdout).not.toContain('hush');
    const notice = "notice: spec.batchScheduler (volcano) is ignored: koala's Spark operator has no batch scheduler";
    expect(result.stdout + result.stderr).toContain(notice);
    expect(result.stdout + result.stderr).toMatch(/is valid; nothing was submitted/);
  });

  it('an empty file says it is empty; a YAML error names the line where the parser stopped', async () => {
    const world = noCluster();
    const empty = path.join(world.project, 'empty.yaml');
    writeFileSync(empty, '# nothing yet\n');
    const result = await koala(world, ['run', '-f', empty, '--dry-run']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${empty}: (file): is empty: it holds no YAML document`);
    const broken = path.join(world.project, 'broken.yaml');
    const lines = ['apiVersion: sparkoperator.k8s.io/v1beta2', 'kind: SparkApplication', 'metadata: {name: x}'];
    writeFileSync(broken, [...lines, 'spec:', '  arguments: ["a", "b"', '  type: Python', ''].join('\n'));
    const syntax = await koala(world, ['run', '-f', broken]);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(new RegExp(`${broken}:(5|6|7): \\(syntax\\): `));
  });
});
