import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cronProblem } from '../../src/tasks/cron.ts';
import { loadTasks } from '../../src/tasks/deploy.ts';
import { loadTask, parseLabels } from '../../src/tasks/manifest.ts';
import { renderTask } from '../../src/tasks/render.ts';
import { ConfigError } from '../../src/util/errors.ts';
import { SEED } from '../support/datatask-seed.ts';

/** A task folder with this manifest (text as given, or JSON) and a Dockerfile unless told not to. */
function taskDir(manifest: unknown, options: { dockerfile?: boolean } = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-task-'));
  writeFileSync(
    path.join(dir, 'manifest.json'),
    typeof manifest === 'string' ? manifest : JSON.stringify(manifest, null, 2),
  );
  if (options.dockerfile !== false) writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
  return dir;
}

async function problems(manifest: unknown, options: { dockerfile?: boolean } = {}): Promise<string> {
  const dir = taskDir(manifest, options);
  try {
    await loadTask(path.join(dir, 'manifest.json'));
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(2);
    expect((error as ConfigError).message).toContain(path.join(dir, 'manifest.json'));
    return (error as ConfigError).message.replaceAll(path.join(dir, 'manifest.json'), 'manifest.json');
  }
  throw new Error('expected a ConfigError');
}

const job = (patch: Record<string, unknown>) => ({ ...SEED.job, ...patch });
const service = (patch: Record<string, unknown>) => ({ ...SEED.service, ...patch });
const without = (o: Record<string, unknown>, key: string) =>
  Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

const BAD: Array<[string, unknown, RegExp]> = [
  ['not JSON', '{"type": "job",', /manifest\.json:\d+: \(syntax\)/],
  ['a list at the top', '[1, 2]', /\(top level\): expected a mapping/],
  ['no type', without(SEED.job, 'type'), /type: is required \(accepted: job, deployment or service\)/],
  [
    'an unknown type',
    job({ type: 'batch' }),
    /type: "batch" is not one of the accepted values \(accepted: job, deployment, service\)/,
  ],
  ['cronjob is not a type: a schedule makes one', job({ type: 'cronjob' }), /type: "cronjob" is not one of/],
  ['no name', without(SEED.job, 'name'), /name: is required/],
  ['a name with capitals', job({ name: 'GsToGs' }), /name: "GsToGs" is not valid \(accepted: lowercase letters/],
  ['no labels', without(SEED.job, 'labels'), /labels: is required \(accepted: key:value pairs/],
  ['labels as a mapping', job({ labels: { app: 'gstogs' } }), /labels: expected key:value pairs .*got a mapping/],
  ['a label with = instead of :', job({ labels: 'app=gstogs' }), /labels: "app=gstogs" is not key:value/],
  ['a bad label key', job({ labels: 'my app:gstogs' }), /labels: "my app" is not a label key/],
  ['a bad label value', job({ labels: 'app:gs to gs' }), /labels: "gs to gs" is not a label value/],
  ['a label given twice', job({ labels: 'app:a,app:b' }), /labels: "app" is given twice/],
  ['both image fields', job({ 'image-source': 'python:3.12' }), /image-destination: is set together with image-source/],
  [
    'neither image field',
    job({ 'image-destination': '' }),
    /image-source: neither image-source nor image-destination is set/,
  ],
  [
    'image-destination without a Dockerfile',
    SEED.job,
    /image-destination: means "build this folder", and .* has no Dockerfile/,
  ],
  [
    'an unknown pull policy',
    job({ 'image-pull-policy': 'Sometimes' }),
    /image-pull-policy: "Sometimes" is not one of .*Always, IfNotPresent, Never/,
  ],
  [
    'a typo in a field name',
    without(job({ 'image-pul-policy': 'Always' }), 'image-pull-policy'),
    /image-pul-policy: unknown field \(did you mean "image-pull-policy"\?\)/,
  ],
  ['env as a mapping', job({ env: { a: 'b' } }), /env: expected a list, got a mapping/],
  [
    'an env value that is a number',
    job({ env: [{ name: 'retries', value: 3 }] }),
    /env\.0\.value: expected a string, got 3/,
  ],
  [
    'an env name with a space',
    job({ env: [{ name: 'log level', value: 'x' }] }),
    /env\.0\.name: "log level" is not valid/,
  ],
  ['cmd as a string', job({ cmd: 'python3 gs_to_gs.py' }), /cmd: expected a list, got "python3 gs_to_gs.py"/],
  [
    'a cpu limit in words',
    job({ 'cpu-limit': 'two' }),
    /cpu-limit: "two" is not valid \(accepted: a Kubernetes quantity/,
  ],
  [
    'a memory request as a number',
    job({ 'memory-request': 150 }),
    /memory-request: expected a Kubernetes quantity .*got 150/,
  ],
  ['a schedule with four fields', job({ schedule: '0 5 * *' }), /schedule: has 4 fields, not 5/],
  ['a schedule with seconds', job({ schedule: '0 0 5 * * *' }), /schedule: has 6 fields, not 5/],
  ['an hour out of range', job({ schedule: '0 25 * * *' }), /schedule: hour "25": out of range 0-23/],
  [
    'a schedule with a time zone',
    job({ schedule: 'CRON_TZ=UTC 0 5 * * *' }),
    /schedule: a time zone is not part of the schedule/,
  ],
  [
    'a schedule on a deployment',
    { ...SEED.deployment, schedule: '0 5 * * *' },
    /schedule: is for a job, and this task is a deployment/,
  ],
  ['replicas on a job', job({ replicas: 2 }), /replicas: is for a service or deployment, and this task is a job/],
  ['negative replicas', service({ replicas: -1 }), /replicas: -1 is out of range/],
  ['replicas as a string', service({ replicas: '2' }), /replicas: expected a whole number, got "2"/],
  ['a port without its name', without(SEED.service, 'name-port'), /name-port: is required with container-port/],
  [
    'a port name without the port',
    without(SEED.service, 'container-port'),
    /container-port: is required with name-port/,
  ],
  [
    'a service without a port',
    without(without(SEED.service, 'container-port'), 'name-port'),
    /container-port: is required for a service/,
  ],
  ['a port out of range', service({ 'container-port': 70000 }), /container-port: 70000 is out of range/],
  [
    'a port name too long',
    service({ 'name-port': 'the-application-port' }),
    /name-port: "the-application-port" is not valid/,
  ],
  [
    'a port on a job',
    job({ 'container-port': 8080, 'name-port': 'http' }),
    /container-port: is for a service or deployment/,
  ],
  [
    'published on a job',
    job({ published: { access: 'dev', prefix: '/x/' } }),
    /published: is for a service, and this task is a job/,
  ],
  ['published without a prefix', service({ published: { access: 'dev' } }), /published\.prefix: is required/],
  [
    'a prefix without its slash',
    service({ published: { access: 'dev', prefix: 'app/' } }),
    /published\.prefix: "app\/" is not valid \(accepted: a path under \/, such as \/app\/ /,
  ],
  [
    'a prefix of / alone (the gateway lists the services there)',
    service({ published: { access: 'dev', prefix: '/' } }),
    /published\.prefix: "\/" is not valid \(accepted: a path under \/, such as \/app\/ /,
  ],
  [
    'a rewrite that is not a path',
    service({ published: { access: 'dev', prefix: '/app/', rewrite: 'api' } }),
    /published\.rewrite: "api" is not valid \(accepted: the path the service receives in place of the prefix/,
  ],
  [
    'an access group that cannot be a user name',
    service({ published: { access: 'Dev Team', prefix: '/app/' } }),
    /published\.access: "Dev Team" is not valid \(accepted: a group name: lowercase letters, digits and "-"/,
  ],
  [
    'published without access or bypass_auth',
    service({ published: { prefix: '/app/' } }),
    /published\.access: is required unless bypass_auth is true/,
  ],
  [
    'a timeout in seconds as a string',
    service({ published: { access: 'dev', prefix: '/a/', timeout_ms: '6s' } }),
    /published\.timeout_ms: expected a whole number, got "6s"/,
  ],
  [
    'sticky_sessions as a string',
    service({ published: { access: 'dev', prefix: '/a/', sticky_sessions: 'yes' } }),
    /published\.sticky_sessions: expected true or false/,
  ],
  [
    'an icon that is neither a name nor a link',
    service({ published: { access: 'dev', prefix: '/a/', icon: 'My Icon' } }),
    /published\.icon: "My Icon" is not valid/,
  ],
  ['node-selector as a list', job({ 'node-selector': ['disk=ssd'] }), /node-selector: expected a mapping, got a list/],
  [
    'a toleration with a bad operator',
    job({ tolerations: [{ key: 'gpu', operator: 'Is' }] }),
    /tolerations\.0\.operator: "Is" is not one of .*Equal, Exists/,
  ],
  [
    'a volume with two sources',
    job({ volumes: [{ name: 'data', mountPath: '/data', secret: 's', emptyDir: true }] }),
    /volumes\.0: has 2 sources \(accepted: exactly one of secret/,
  ],
  [
    'a volume without a mount path',
    job({ volumes: [{ name: 'data', emptyDir: true }] }),
    /volumes\.0\.mountPath: is required/,
  ],
  [
    'a relative mount path',
    job({ volumes: [{ name: 'data', mountPath: 'data', emptyDir: true }] }),
    /volumes\.0\.mountPath: "data" is not valid \(accepted: an absolute path/,
  ],
  [
    'a secret name with capitals',
    job({ 'svc-account-secret': 'SvcAccount' }),
    /svc-account-secret: "SvcAccount" is not valid/,
  ],
];

describe('manifest.json: a bad manifest names the file, the field and what is accepted (exit 2)', () => {
  it.each(BAD)('%s', async (_name, manifest, expected) => {
    const dockerfile = _name !== 'image-destination without a Dockerfile';
    expect(await problems(manifest, { dockerfile })).toMatch(expected);
  });

  it('has more than 25 cases', () => expect(BAD.length).toBeGreaterThan(25));

  it('reports every problem of a file at once, each on the line of its field', async () => {
    const text = JSON.stringify(job({ name: 'X', 'cpu-limit': 'two', replicas: 2, labels: 'app=x' }), null, 2);
    const message = await problems(text);
    expect(message).toMatch(/\(4 problems\)/);
    const lineOf = (field: string) => text.split('\n').findIndex((l) => l.includes(`"${field}"`)) + 1;
    expect(message).toContain(`manifest.json:${lineOf('cpu-limit')}: cpu-limit:`);
    expect(message).toContain(`manifest.json:${lineOf('replicas')}: replicas:`);
  });

  it('a tree with two tasks of one name names both files, and nothing is loaded', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'koala-tasks-'));
    for (const sub of ['a', 'b']) {
      mkdirSync(path.join(root, sub));
      writeFileSync(path.join(root, sub, 'manifest.json'), JSON.stringify(SEED.service));
    }
    await expect(loadTasks(root)).rejects.toThrow(
      /b\/manifest\.json: name: "app-flask" is also the name of .*a\/manifest\.json/,
    );
  });
});

describe('manifest.json: the documented examples', () => {
  it('the gstogs job: a Job with the documented defaults and every field mapped', async () => {
    const task = await loadTask(path.join(taskDir(SEED.job), 'manifest.json'));
    expect(task).toMatchObject({ kind: 'job', name: 'gstogs', labels: { app: 'gstogs' }, imagePullPolicy: 'Always' });
    expect(task.image).toEqual({ destination: 'gcr.io/affini-tech-datalab/gs_to_gs:0.1' });
    const [object, ...rest] = renderTask(task, 'tasks', 'localhost:5001/koala/gstogs:abc');
    expect(rest).toEqual([]);
    expect(object).toMatchObject({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'gstogs', namespace: 'tasks' },
    });
    const pod = (object!.spec as { template: { spec: Record<string, unknown> } }).template.spec;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.containers).toEqual([
      {
        name: 'gstogs',
        image: 'localhost:5001/koala/gstogs:abc',
        imagePullPolicy: 'Always',
        command: ['python3', 'gs_to_gs.py'],
        env: [
          { name: 'bucket_source', value: 'dev_etl_pipeline' },
          { name: 'logger_name', value: 'gs_to_gs' },
        ],
        resources: { limits: { cpu: '0.20', memory: '200Mi' }, requests: { cpu: '0.15', memory: '150Mi' } },
        volumeMounts: [{ name: 'svc-account', mountPath: '/var/secrets/svc-account', readOnly: true }],
      },
    ]);
    expect(pod.volumes).toEqual([{ name: 'svc-account', secret: { secretName: 'svc-account-affini-tech-a' } }]);
  });

  it('its cronjob variant: the schedule makes a CronJob of the same pod', async () => {
    const task = await loadTask(path.join(taskDir({ ...SEED.job, schedule: '0 5 * * *' }), 'manifest.json'));
    const [cron] = renderTask(task, 'tasks', 'img');
    expect(cron).toMatchObject({ kind: 'CronJob', spec: { schedule: '0 5 * * *' } });
    const template = (cron!.spec as { jobTemplate: { spec: { template: unknown } } }).jobTemplate.spec.template;
    const [plain] = renderTask({ ...task, kind: 'job' }, 'tasks', 'img');
    expect(template).toEqual((plain!.spec as { template: unknown }).template);
  });

  it('subscriber-launch-pipeline: a Deployment of 1 replica, no Service', async () => {
    const task = await loadTask(path.join(taskDir(SEED.deployment), 'manifest.json'));
    const objects = renderTask(task, 'tasks', 'img');
    expect(objects.map((o) => o.kind)).toEqual(['Deployment']);
    expect(objects[0]!.spec).toMatchObject({ replicas: 1, selector: { matchLabels: { 'koala.dev/task': task.name } } });
    expect(objects[0]!.metadata.labels).toMatchObject({ app: 'subscriber-etl', 'koala.dev/task': task.name });
  });

  it('app-flask: a Deployment and a Service selecting it by its labels, with the published defaults', async () => {
    const task = await loadTask(path.join(taskDir(SEED.service, { dockerfile: false }), 'manifest.json'));
    expect(task.published).toEqual({
      access: 'dev',
      prefix: '/app/',
      timeoutMs: 6000,
      stickySessions: false,
      bypassAuth: false,
      displayedName: 'app-flask',
      icon: 'import_contacts',
      visible: true,
    });
    const [deployment, svc] = renderTask(task, 'tasks', 'quay.io/gilles/flask-team');
    const container = (deployment!.spec as { template: { spec: { containers: Array<Record<string, unknown>> } } })
      .template.spec.containers[0]!;
    expect(container).toMatchObject({
      image: 'quay.io/gilles/flask-team',
      ports: [{ name: 'app-port', containerPort: 5000, protocol: 'TCP' }],
    });
    expect(container.command).toBeUndefined();
    expect(svc).toMatchObject({
      kind: 'Service',
      metadata: { name: 'app-flask' },
      spec: { selector: { app: 'flask' }, ports: [{ name: 'app-port', port: 5000, targetPort: 'app-port' }] },
    });
  });
});

describe('labels and schedules', () => {
  it.each([
    ['app:gstogs', { app: 'gstogs' }],
    ['app:flask, tier:web', { app: 'flask', tier: 'web' }],
    ['example.com/team:data', { 'example.com/team': 'data' }],
    ['app:', { app: '' }],
  ])('%s', (text, labels) => expect(parseLabels(text)).toEqual({ labels }));

  it.each(['0 5 * * *', '*/15 * * * MON-FRI', '0 0 1 JAN,JUL *', '@daily', '30 2 * * 0', '0 0 * * 7', '5/10 * * * *'])(
    'accepts %s',
    (s) => expect(cronProblem(s)).toBeUndefined(),
  );
  it.each([
    ['@often', /not a schedule macro/],
    ['60 * * * *', /minute "60": out of range 0-59/],
    ['0 0 0 * *', /day of month "0": out of range 1-31/],
    ['0 0 * 13 *', /month "13": out of range 1-12/],
    ['0 0 * * 8', /day of week "8": out of range 0-7/],
    ['0 0 * * FOO', /day of week "FOO": "FOO" is not a number or name/],
    ['5-1 * * * *', /"5-1" runs backwards/],
    ['*/0 * * * *', /step "0" is not a positive number/],
  ])('refuses %s', (s, why) => expect(cronProblem(s)).toMatch(why));
});

describe('koala status with tasks', () => {
  it('lists each task with its kind and health after the components; platform health is its own', async () => {
    const { renderStatus } = await import('../../src/ui/status.ts');
    const text = renderStatus({
      healthy: true,
      cluster: { name: 'koala', exists: true, reachable: true, context: 'kind-koala', version: 'v1.34.0' },
      nodes: [{ name: 'koala-control-plane', role: 'control-plane', ready: true, version: 'v1.34.0' }],
      components: [{ id: 'object-store', title: 'Object store', ok: true, detail: 'minio 1/1 ready' }],
      tasks: {
        namespace: 'tasks',
        items: [
          { name: 'app-flask', kind: 'service', ok: false, detail: '0/1 ready' },
          { name: 'gstogs', kind: 'cronjob', ok: true, detail: '0 5 * * *; not run yet' },
        ],
      },
    });
    expect(text).toMatch(
      /TASK \(namespace tasks\)\s+KIND\s+HEALTH\s+DETAIL\n\s+app-flask\s+service\s+FAILING\s+0\/1 ready/,
    );
    expect(text).toMatch(/gstogs\s+cronjob\s+ok\s+0 5 \* \* \*; not run yet/);
    expect(text.trimEnd().endsWith('All healthy.')).toBe(true);
  });
});
