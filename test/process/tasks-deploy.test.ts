/**
 * `koala tasks deploy|list|delete` against the test bed's API server, with real Docker and a real
 * registry (koala-test/registry:3) for the task whose manifest says image-destination. The
 * datatask documentation's own manifests are deployed as written and their objects read back;
 * a second deploy writes nothing (no generation and no write time of koala's moves); a changed
 * Job is replaced, a job given a schedule becomes a CronJob and its Job goes; a bad manifest
 * deploys nothing.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { koala } from '../support/cli.ts';
import { startRegistry, type TestRegistry } from '../support/registry.ts';
import { jsonDocument } from '../support/json-documents.ts';
import { kubectl } from '../support/testbed.ts';
import { SEED } from '../support/datatask-seed.ts';
import { jobsWorld } from './jobs-world.ts';

const namespace = `tasks-${randomBytes(3).toString('hex')}`;
const jobsNamespace = `tjobs-${randomBytes(3).toString('hex')}`;
let registry: TestRegistry | undefined;
let registryPort = 0;
let world: ReturnType<typeof jobsWorld>;
let tasksDir = '';

const get = (what: string): Record<string, unknown> =>
  JSON.parse(kubectl(['get', what, '-n', namespace, '-o', 'json'])) as Record<string, unknown>;
/**
 * Per object: its generation (bumped by any change of its spec) and when koala's field manager
 * last changed it. Controllers write status (a Deployment's ready replicas, a Job's start time)
 * whenever they like, so resourceVersion would move without koala; these move only with a write
 * of koala's that changed something.
 */
const koalaWrites = (): string[] =>
  kubectl([
    'get',
    'jobs,cronjobs,deployments,services,ingresses',
    '-n',
    namespace,
    '-o',
    'jsonpath={range .items[*]}{.kind}/{.metadata.name} generation={.metadata.generation} ' +
      'koala={.metadata.managedFields[?(@.manager=="koala")].time}{"\\n"}{end}',
  ])
    .split('\n')
    .filter(Boolean)
    .sort();
const deploy = (...extra: string[]) => koala(world, ['tasks', 'deploy', tasksDir, '-n', namespace, ...extra]);

function writeTask(name: string, manifest: unknown, files: Record<string, string> = {}): void {
  const dir = path.join(tasksDir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  for (const [file, text] of Object.entries(files)) writeFileSync(path.join(dir, file), text);
}

beforeAll(async () => {
  registry = await startRegistry(`koala-test-registry-tasks-${process.pid}`, ['koala-test/base:1']);
  registryPort = registry.port;
  world = jobsWorld({ jobNamespaces: [jobsNamespace], registryPort, fakes: ['kind'] });
  tasksDir = path.join(world.project, 'tasks');
  writeTask('gstogs', SEED.job, {
    Dockerfile: 'FROM koala-test/base:1\nCOPY gs_to_gs.py /app/\n',
    'gs_to_gs.py': 'print("gs to gs")\n',
  });
  writeTask('subscriber', { ...SEED.deployment, 'image-destination': '', 'image-source': 'koala-test/base:1' });
  writeTask('flask', SEED.service);
});

afterAll(() => {
  registry?.stop();
  if (!world) return;
  // The job namespace exists only once the storage test made it.
  for (const ns of [namespace, jobsNamespace])
    spawnSync('kubectl', ['--kubeconfig', world.env.KUBECONFIG!, 'delete', 'namespace', ns, '--wait=false'], {
      stdio: 'ignore',
    });
});

describe('koala tasks deploy (test bed API server, real Docker and registry)', () => {
  it('a bad manifest anywhere in the tree deploys nothing: exit 2, no namespace', async () => {
    writeTask('broken', { ...SEED.job, name: 'broken', 'image-source': 'python:3.12' });
    const r = await deploy();
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${path.join(tasksDir, 'broken', 'manifest.json')}:`);
    expect(r.stderr).toContain('image-destination: is set together with image-source');
    expect(kubectl(['get', 'namespaces', '-o', 'name'])).not.toContain(`namespace/${namespace}`);
    execFileSync('rm', ['-r', path.join(tasksDir, 'broken')]);
  });

  it("deploys the documentation's manifests as written, building the image-destination folder", async () => {
    const r = await deploy('--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = jsonDocument('tasks deploy', r.stdout);
    expect(doc.namespaceCreated).toBe(true);
    expect(doc.objects.map((o) => `${o.kind}/${o.name}:${o.action}`).sort()).toEqual([
      'Deployment/app-flask:created',
      'Deployment/subscriber-launch-pipeline:created',
      'Ingress/app-flask:created',
      'Job/gstogs:created',
      'Service/app-flask:created',
    ]);
    // Published: its Ingress is there for the gateway, which this project has not installed.
    expect(doc.gateway).toEqual({
      served: false,
      base: 'http://127.0.0.1:8000',
      routes: [{ task: 'app-flask', url: 'http://127.0.0.1:8000/app/', access: 'dev' }],
      newGroups: [],
      note: 'the gateway is not installed yet: `koala up` installs it and serves these routes',
    });
    const built = doc.images.find((i) => i.task === 'gstogs')!;
    expect(built.image).toMatch(new RegExp(`^localhost:${registryPort}/koala/gstogs:[0-9a-f]{16}$`));
    // The registry has what the Job runs.
    const tag = built.image.split(':').at(-1)!;
    const tags = (await (await fetch(`http://127.0.0.1:${registryPort}/v2/koala/gstogs/tags/list`)).json()) as {
      tags: string[];
    };
    expect(tags.tags).toContain(tag);

    const job = get('job/gstogs') as { metadata: { labels: Record<string, string> }; spec: { template: unknown } };
    expect(job.metadata.labels).toMatchObject({ app: 'gstogs', 'koala.dev/task': 'gstogs' });
    const pod = (job.spec.template as { spec: { containers: Array<Record<string, unknown>>; volumes: unknown[] } })
      .spec;
    expect(pod.containers[0]).toMatchObject({
      image: built.image,
      imagePullPolicy: 'Always',
      command: ['python3', 'gs_to_gs.py'],
      env: [
        { name: 'bucket_source', value: 'dev_etl_pipeline' },
        { name: 'logger_name', value: 'gs_to_gs' },
      ],
      resources: { limits: { cpu: '200m', memory: '200Mi' }, requests: { cpu: '150m', memory: '150Mi' } },
    });
    expect(pod.volumes).toEqual([
      { name: 'svc-account', secret: { secretName: 'svc-account-affini-tech-a', defaultMode: 420 } },
    ]);
    const service = get('service/app-flask') as { spec: { selector: unknown; ports: unknown[]; type: string } };
    expect(service.spec).toMatchObject({
      type: 'ClusterIP',
      selector: { app: 'flask' },
      ports: [{ name: 'app-port', port: 5000, targetPort: 'app-port', protocol: 'TCP' }],
    });
    const deployment = get('deployment/subscriber-launch-pipeline') as { spec: { replicas: number } };
    expect(deployment.spec.replicas).toBe(1);
  });

  it('a second deploy writes nothing: every object unchanged, none changed by koala since', async () => {
    const before = koalaWrites();
    const r = await deploy('--json');
    expect(r.code, r.stderr).toBe(0);
    const doc = jsonDocument('tasks deploy', r.stdout);
    expect(doc.objects.every((o) => o.action === 'unchanged')).toBe(true);
    expect(doc.images.find((i) => i.task === 'gstogs')!.reason).toMatch(/is up to date/);
    expect(before).toHaveLength(5);
    expect(before.every((line) => /koala=\d{4}-/.test(line))).toBe(true);
    expect(koalaWrites()).toEqual(before);
  });

  it('a changed Job is replaced (its template is immutable); a schedule turns it into a CronJob', async () => {
    writeTask('gstogs', { ...SEED.job, env: [{ name: 'bucket_source', value: 'other' }] });
    const changed = jsonDocument('tasks deploy', (await deploy('--json')).stdout);
    expect(
      changed.objects.filter((o) => o.action !== 'unchanged').map((o) => `${o.kind}/${o.name}:${o.action}`),
    ).toEqual(['Job/gstogs:replaced']);
    expect(JSON.stringify(get('job/gstogs'))).toContain('"other"');

    writeTask('gstogs', { ...SEED.job, schedule: '0 5 * * *' });
    const cron = jsonDocument('tasks deploy', (await deploy('--json')).stdout);
    expect(cron.objects.filter((o) => o.action !== 'unchanged').map((o) => `${o.kind}/${o.name}:${o.action}`)).toEqual([
      'CronJob/gstogs:created',
      'Job/gstogs:deleted',
    ]);
    expect((get('cronjob/gstogs') as { spec: { schedule: string } }).spec.schedule).toBe('0 5 * * *');
    // A run the CronJob started is its history, not a leftover of the deploy: it stays.
    kubectl(['create', 'job', 'gstogs-by-hand', '--from=cronjob/gstogs', '-n', namespace]);
    const again = jsonDocument('tasks deploy', (await deploy('--json')).stdout);
    expect(again.objects.every((o) => o.action === 'unchanged')).toBe(true);
    expect(kubectl(['get', 'jobs', '-n', namespace, '-o', 'name'])).toContain('job.batch/gstogs-by-hand');
  });

  it('tasks list shows each task with its kind; tasks delete removes one task and names what went', async () => {
    const list = await koala(world, ['tasks', 'list', '-n', namespace, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const tasks = jsonDocument('tasks list', list.stdout).tasks;
    expect(tasks.map((t) => `${t.name}:${t.kind}`)).toEqual([
      'app-flask:service',
      'gstogs:cronjob',
      'subscriber-launch-pipeline:deployment',
    ]);
    expect(tasks.find((t) => t.name === 'gstogs')!.detail).toBe('0 5 * * *; not run yet');
    expect(tasks.find((t) => t.name === 'app-flask')!.url).toBe('http://127.0.0.1:8000/app/');

    const del = await koala(world, ['tasks', 'delete', 'app-flask', '-n', namespace]);
    expect(del.code, del.stderr).toBe(0);
    expect(del.stdout).toContain('Deleted deployment/app-flask, service/app-flask, ingress/app-flask.');
    const again = await koala(world, ['tasks', 'delete', 'app-flask', '-n', namespace]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`No task "app-flask" in namespace ${namespace}`);
  });

  it('koala new task scaffolds a job, a CronJob and a service that check and deploy as they are', async () => {
    for (const args of [
      ['nightly', '--schedule', '0 5 * * *'],
      ['worker', '--type', 'deployment'],
      ['hello', '--type', 'service', '--port', '5000'],
    ]) {
      const r = await koala(world, ['new', 'task', ...args, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(jsonDocument('new task', r.stdout).files.map((f) => path.basename(f))).toEqual([
        'manifest.json',
        'Dockerfile',
        'main.py',
      ]);
    }
    const again = await koala(world, ['new', 'task', 'hello']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('already exists');
    // Nothing is pulled here: the scaffold's python base is swapped for the local one.
    for (const task of ['nightly', 'worker', 'hello']) {
      const file = path.join(world.project, 'tasks', task, 'Dockerfile');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/^FROM .*$/m, 'FROM koala-test/python:1'));
    }
    const r = await koala(world, ['tasks', 'deploy', path.join(world.project, 'tasks'), '-n', namespace, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const changed = jsonDocument('tasks deploy', r.stdout).objects.filter((o) =>
      ['nightly', 'worker', 'hello'].includes(o.task),
    );
    expect(changed.map((o) => `${o.kind}/${o.name}:${o.action}`)).toEqual([
      'Deployment/hello:created',
      'Service/hello:created',
      'CronJob/nightly:created',
      'Deployment/worker:created',
    ]);
    const svc = get('service/hello') as { spec: { ports: Array<{ port: number }>; selector: unknown } };
    expect(svc.spec).toMatchObject({ ports: [{ port: 5000 }], selector: { app: 'hello' } });
  });

  it('storage: without the object store nothing changes; with it the task gets its Secret and ConfigMap', async () => {
    writeTask('reader', {
      labels: 'app:reader',
      type: 'deployment',
      name: 'reader',
      'image-source': 'koala-test/base:1',
      cmd: ['sleep', '3600'],
      storage: true,
    });
    const refused = await deploy();
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr).toContain(`the object store's Secret ${jobsNamespace}/object-store-s3 does not exist`);
    expect(refused.stderr).toContain('Run `koala up`');
    expect(kubectl(['get', 'deployments', '-n', namespace, '-o', 'name'])).not.toContain('reader');

    // What `koala up` gives every Spark job namespace.
    const keys = { AWS_ACCESS_KEY_ID: 'AKTEST', AWS_SECRET_ACCESS_KEY: randomBytes(12).toString('hex') };
    const data = {
      ...keys,
      AWS_ENDPOINT_URL: 'http://minio.object-store.svc.cluster.local:9000',
      AWS_REGION: 'us-east-1',
    };
    kubectl(['create', 'namespace', jobsNamespace]);
    kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'object-store-s3', namespace: jobsNamespace },
        stringData: data,
      }),
    );
    const r = await deploy('--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(keys.AWS_SECRET_ACCESS_KEY);
    const doc = jsonDocument('tasks deploy', r.stdout);
    expect(doc.objects.filter((o) => o.action !== 'unchanged').map((o) => `${o.kind}/${o.name}:${o.action}`)).toEqual([
      'Secret/object-store-s3:created',
      'ConfigMap/object-store:created',
      'Deployment/reader:created',
    ]);
    const secret = get('secret/object-store-s3') as { data: Record<string, string> };
    expect(
      Object.fromEntries(Object.entries(secret.data).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()])),
    ).toEqual(data);
    expect((get('configmap/object-store') as { data: Record<string, string> }).data).toMatchObject({
      bucket: 'spark-data',
      endpoint: data.AWS_ENDPOINT_URL,
      secretName: 'object-store-s3',
    });
    const container = (
      get('deployment/reader') as { spec: { template: { spec: { containers: Array<Record<string, unknown>> } } } }
    ).spec.template.spec.containers[0]!;
    expect(container.envFrom).toEqual([{ secretRef: { name: 'object-store-s3' } }]);
    expect(container.env).toEqual([
      { name: 'S3_BUCKET', valueFrom: { configMapKeyRef: { name: 'object-store', key: 'bucket' } } },
    ]);
    const again = jsonDocument('tasks deploy', (await deploy('--json')).stdout);
    expect(again.objects.every((o) => o.action === 'unchanged')).toBe(true);
  });
});
