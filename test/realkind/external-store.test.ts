/**
 * The platform on a cluster koala did not create, with an S3 store koala does not run: a kind
 * cluster made here with kind itself (as a team's cluster would be made by someone else), and
 * MinIO in a container on kind's network standing where a company's S3 endpoint stands. koala
 * takes the store's keys from .env.private only, makes the buckets there from a pod, lets the
 * job namespaces reach the endpoint's port and nothing else of it, reports it in status,
 * changes nothing on a second `up`, and `down` leaves both the cluster and the store's data.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { koala, makeWorld, type World } from '../support/cli.ts';
import { jsonDocument, upRunDocument } from '../support/json-documents.ts';
import { docker, env, kind, kubectl, skipReason, tryKubectl } from './support.ts';
import { waitFor } from './platform-world.ts';

if (skipReason) console.warn(skipReason);

const name = `xs${randomBytes(3).toString('hex')}`;
const context = `kind-${name}`;
const store = `s3-${name}`;
const keysDir = mkdtempSync(path.join(os.tmpdir(), 'koala-s3-'));
const accessKey = `K${randomBytes(9).toString('hex').toUpperCase()}`;
const secretKey = randomBytes(24).toString('base64url');
let world: World;
let endpointIp = '';
let mcImage = '';

/** A file of KEY=value lines, 0600, for `docker run --env-file`: no key on a command line. */
function envFile(file: string, vars: Record<string, string>): string {
  const full = path.join(keysDir, file);
  writeFileSync(
    full,
    Object.entries(vars)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
    { mode: 0o600 },
  );
  return full;
}

/** `mc <args>` against the store from a container on kind's network, as its owner sees it. */
function mcOnStore(...args: string[]): string {
  const keys = envFile('mc.env', {
    MC_HOST_store: `http://${accessKey}:${secretKey}@${endpointIp}:9000`,
    MC_CONFIG_DIR: '/tmp/.mc',
  });
  return docker('run', '--rm', '--network', 'kind', '--env-file', keys, mcImage, ...args);
}

const run = (args: string[]) => koala(world, [...args, '--context', context]);

beforeAll(async () => {
  if (skipReason) return;
  mcImage = (JSON.parse(process.env.KOALA_PLATFORM_IMAGES!) as Record<string, string>).mc!;
  const minio = (JSON.parse(process.env.KOALA_PLATFORM_IMAGES!) as Record<string, string>).minio!;
  world = makeWorld({
    fakes: [],
    env: { DOCKER_HOST: env().dockerHost, KOALA_KIND: env().kind },
  });
  // Someone else's cluster, made with kind directly: koala has no record of it.
  execFileSync(env().kind, ['create', 'cluster', '--name', name, '--image', env().nodeImage, '--wait', '120s'], {
    env: { ...world.env, DOCKER_HOST: env().dockerHost },
    stdio: 'pipe',
  });
  // The cluster pulls the bucket job's image from nowhere: it is loaded onto the node.
  kind(['load', 'docker-image', mcImage, '--name', name]);
  docker(
    'run',
    '-d',
    '--name',
    store,
    '--network',
    'kind',
    '--env-file',
    envFile('minio.env', { MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey }),
    minio,
    'server',
    '/data',
    '--console-address',
    ':9001',
  );
  endpointIp = docker('inspect', store, '-f', '{{(index .NetworkSettings.Networks "kind").IPAddress}}');
  await waitFor('the external store to answer', () => (tryMc('ls', 'store') ? true : undefined), 60_000);
  world.writeConfig(
    [
      `cluster: { context: ${context} }`,
      `images: { mc: ${mcImage} }`,
      'objectStore:',
      '  type: external',
      `  endpoint: http://${endpointIp}:9000`,
      '  buckets: [spark-data, lake]',
      'components:',
      '  spark-operator: { enabled: false }',
      '  airflow: { enabled: false }',
      // The gateway is tested with the platform (platform.test.ts); this test is the store's.
      '  gateway: { enabled: false }',
    ].join('\n'),
  );
}, 400_000);

function tryMc(...args: string[]): boolean {
  try {
    mcOnStore(...args);
    return true;
  } catch {
    return false;
  }
}

afterAll(() => {
  if (skipReason) return;
  spawnSync(env().kind, ['delete', 'cluster', '--name', name], {
    env: { ...process.env, DOCKER_HOST: env().dockerHost },
  });
  spawnSync('docker', ['rm', '-f', '-v', store], { env: { ...process.env, DOCKER_HOST: env().dockerHost } });
  rmSync(keysDir, { recursive: true, force: true });
});

describe.skipIf(Boolean(skipReason))('an external S3 store on a cluster koala did not create', () => {
  it('without the store keys in .env.private, stops with exit 2 naming them, and changes nothing', async () => {
    const up = await run(['up', '--yes']);
    expect(up.code, up.stdout + up.stderr).toBe(2);
    expect(up.stderr).toContain(`${path.join(world.project, '.env.private')}: KOALA_OBJECT_STORE_ACCESS_KEY`);
    expect(up.stderr).toContain('KOALA_OBJECT_STORE_SECRET_KEY');
    expect(up.stderr).toMatch(/is required: objectStore\.type is external/);
    expect(kubectl(world, ['get', 'namespaces', '-o', 'name'])).not.toContain('koala-system');
  });

  it('with the keys: up makes the buckets on the store from a pod, and status reports it', async () => {
    const file = path.join(world.project, '.env.private');
    writeFileSync(file, `KOALA_OBJECT_STORE_ACCESS_KEY=${accessKey}\nKOALA_OBJECT_STORE_SECRET_KEY=${secretKey}\n`, {
      mode: 0o600,
    });
    const up = await run(['up', '--yes', '--json']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const steps = upRunDocument(up.stdout).steps;
    expect(steps.map((s) => s.id)).toContain('object-store');
    expect(steps.map((s) => s.id)).not.toContain('object-store-buckets');
    // No key reached the output.
    expect(up.stdout + up.stderr).not.toContain(secretKey);
    // The buckets are on the store, as its owner lists them.
    const buckets = mcOnStore('ls', 'store');
    expect(buckets).toMatch(/spark-data\/$/m);
    expect(buckets).toMatch(/lake\/$/m);
    // Jobs find the store where they find any store: the Secret in their namespace.
    const endpoint = kubectl(world, [
      'get',
      'secret',
      '-n',
      'spark-jobs',
      'object-store-s3',
      '-o',
      'jsonpath={.data.AWS_ENDPOINT_URL}',
    ]);
    expect(Buffer.from(endpoint, 'base64').toString()).toBe(`http://${endpointIp}:9000`);
    // No MinIO was installed.
    expect(kubectl(world, ['get', 'deployments', '-n', 'object-store', '-o', 'name'])).toBe('');

    const status = await run(['status', '--json']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    const doc = jsonDocument('status', status.stdout);
    const objectStore = doc.components.find((c) => c.id === 'object-store');
    expect(objectStore).toMatchObject({ ok: true });
    expect(objectStore?.detail).toBe(`external at http://${endpointIp}:9000: spark-data, lake exist`);
  });

  it("a job namespace reaches the store's S3 port with its Secret, and not the store's other ports", async () => {
    kubectl(
      world,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'client', namespace: 'spark-jobs' },
        spec: {
          containers: [
            {
              name: 'client',
              image: mcImage,
              imagePullPolicy: 'IfNotPresent',
              command: ['sleep', '3600'],
              envFrom: [{ secretRef: { name: 'object-store-s3' } }],
            },
          ],
        },
      }),
    );
    kubectl(world, ['wait', '-n', 'spark-jobs', '--for=condition=Ready', 'pod/client', '--timeout=120s']);
    const inPod = (script: string) =>
      tryKubectl(world, ['exec', '-n', 'spark-jobs', 'client', '--', 'sh', '-c', script]);
    // S3 with the keys of the job Secret, built into mc's alias inside the pod.
    const s3 = inPod(
      'keys="$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY@"; ' +
        'export MC_HOST_store="$(echo "$AWS_ENDPOINT_URL" | sed "s#://#://$keys#")"; ' +
        'echo koala > /tmp/x && mc cp /tmp/x store/lake/from-a-job && mc cat store/lake/from-a-job',
    );
    expect(s3.out).toContain('koala');
    expect(s3.ok, s3.out).toBe(true);
    // The console port answers on kind's network, yet the policy keeps job pods from it.
    const fromKindNetwork = `echo | nc -w 3 ${endpointIp} 9001 >/dev/null && echo open`;
    expect(docker('run', '--rm', '--network', 'kind', 'koala-test/base:1', 'sh', '-c', fromKindNetwork)).toBe('open');
    // The cluster's policy engine (kube-router here) rejects a connection no rule allows: refused.
    const console = inPod(`echo | timeout 6 nc -w 4 ${endpointIp} 9001 >/dev/null 2>&1 && echo open || echo closed`);
    expect(console.out).toBe('closed');
  });

  it('a second up changes nothing; down removes what koala installed and leaves the cluster and the data', async () => {
    const again = await run(['up', '--yes', '--json']);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    const steps = upRunDocument(again.stdout).steps;
    expect(steps.filter((s) => s.status === 'done').map((s) => s.id)).toEqual([]);

    const down = await run(['down', '--yes']);
    expect(down.code, down.stdout + down.stderr).toBe(0);
    // Namespaces end once their pods have: deleted, they are Terminating for a while.
    await waitFor(
      "koala's namespaces to be gone",
      () => {
        const namespaces = kubectl(world, ['get', 'namespaces', '-o', 'name']);
        return ['koala-system', 'object-store', 'spark-jobs', 'airflow'].some((ns) => namespaces.includes(`/${ns}`))
          ? undefined
          : true;
      },
      180_000,
    );
    expect(kind(['get', 'clusters']).split('\n')).toContain(name);
    expect(mcOnStore('cat', 'store/lake/from-a-job')).toBe('koala');
  });
});
