/**
 * koala in a devcontainer that uses the host's Docker through its socket (docker-outside-of-
 * docker, koala init's default). kind publishes the API server on the host's 127.0.0.1, which
 * the container cannot reach: koala must join its container to kind's network and use the
 * nodes' own address, by itself, for `up` and every command after it.
 *
 * The container is the devcontainer's runtime as the Dev Containers CLI would start it, made by
 * hand: the CLI's features (docker-outside-of-docker) and its base image (node:22-bookworm) come
 * from ghcr.io and Docker Hub, which these machines cannot reach. Its image is Debian bookworm
 * built here (scripts/docker/base-image.sh devcontainer); Node, koala, kind, helm, kubectl and
 * the Docker CLI are mounted into it, and the kind daemon's socket is its /var/run/docker.sock.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/cli.ts';
import { REPO } from '../support/testbed.ts';
import { docker, env, kind, skipReason } from './support.ts';

const name = `dc${randomBytes(3).toString('hex')}`;
const container = `koala-dev-${name}`;
let project: string;

function inside(args: string[]): { code: number | null; stdout: string; out: string } {
  const e = env();
  const r = spawnSync(
    'docker',
    [
      'exec',
      '-w',
      '/project',
      '-e',
      'HOME=/root',
      '-e',
      'PATH=/tools:/opt/node/bin:/usr/local/bin:/usr/bin:/bin',
      '-e',
      `KOALA_NODE_IMAGE=${e.nodeImage}`,
      container,
      ...args,
    ],
    { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: e.dockerHost }, timeout: 600_000 },
  );
  return { code: r.status, stdout: r.stdout, out: `${r.stdout}${r.stderr}` };
}

const koalaInside = (...args: string[]) => inside(['node', '/koala/bin/run.js', ...args]);

beforeAll(async () => {
  if (skipReason) return;
  const registryPort = await freePort();
  const e = env();
  project = mkdtempSync(path.join(os.tmpdir(), 'koala-devcontainer-'));
  writeFileSync(path.join(project, '.git'), '');
  writeFileSync(
    path.join(project, 'koala.yaml'),
    [
      `cluster: { name: ${name}, controlPlanes: 1, workers: 0 }`,
      `registry: { name: reg-${name}, port: ${registryPort}, image: koala-test/registry:3 }`,
      'ports: { airflow: 0, objectStore: 0, objectStoreConsole: 0, gateway: 0 }',
      'components:',
      '  spark-operator: { enabled: false }',
      '  object-store: { enabled: false }',
      '  airflow: { enabled: false }',
    ].join('\n'),
  );
  const socket = e.dockerHost.replace(/^unix:\/\//, '');
  const nodeRoot = path.resolve(path.dirname(process.execPath), '..');
  const helm = path.join(process.env.KOALA_TESTBED_BIN!, 'helm4');
  docker(
    'run',
    '-d',
    '--name',
    container,
    '-v',
    `${socket}:/var/run/docker.sock`,
    '-v',
    `${REPO}:/koala:ro`,
    '-v',
    `${nodeRoot}:/opt/node:ro`,
    '-v',
    `${project}:/project`,
    '-v',
    `${e.kind}:/tools/kind:ro`,
    '-v',
    `${helm}:/tools/helm:ro`,
    '-v',
    `${e.kubectl}:/tools/kubectl:ro`,
    '-v',
    `${execFileSync('bash', ['-c', 'command -v docker'], { encoding: 'utf8' }).trim()}:/tools/docker:ro`,
    'koala-test/devcontainer:1',
  );
}, 120_000);

afterAll(() => {
  if (skipReason) return;
  spawnSync('docker', ['rm', '-f', container], { env: { ...process.env, DOCKER_HOST: env().dockerHost } });
  if (kind(['get', 'clusters']).split('\n').includes(name)) kind(['delete', 'cluster', '--name', name]);
  spawnSync('docker', ['rm', '-f', `reg-${name}`], { env: { ...process.env, DOCKER_HOST: env().dockerHost } });
});

describe.skipIf(skipReason)('koala in a devcontainer on the host Docker', () => {
  it('up creates the cluster and reaches it over kind\u2019s network, not the host\u2019s 127.0.0.1', () => {
    const up = koalaInside('up');
    expect(up.code, up.out).toBe(0);
    expect(up.out).toMatch(/nodes-ready\s+done/);
    const server = inside([
      'kubectl',
      'config',
      'view',
      '--minify',
      '--context',
      `kind-${name}`,
      '-o',
      'jsonpath={.clusters[0].cluster.server}',
    ]);
    expect(server.out.trim()).toBe(`https://${name}-control-plane:6443`);
    const networks = docker(
      'inspect',
      container,
      '--format',
      '{{range $n, $_ := .NetworkSettings.Networks}}{{$n}} {{end}}',
    );
    expect(networks.split(' ')).toContain('kind');
  }, 900_000);

  it('status and a second up work from inside with no step by the user', () => {
    const status = koalaInside('status', '--json');
    expect(status.code, status.out).toBe(0);
    const parsed = JSON.parse(status.stdout) as { cluster: { reachable: boolean }; nodes: Array<{ ready: boolean }> };
    expect(parsed.cluster.reachable).toBe(true);
    expect(parsed.nodes.map((n) => n.ready)).toEqual([true]);
    const again = koalaInside('up', '--json');
    expect(again.code, again.out).toBe(0);
    const report = JSON.parse(again.stdout) as { steps: Array<{ status: string }> };
    expect(report.steps.filter((s) => s.status !== 'unchanged')).toEqual([]);
    // The user's own kubectl in the container reaches it too.
    expect(inside(['kubectl', 'get', 'nodes', '-o', 'name']).out.trim()).toBe(`node/${name}-control-plane`);
  }, 600_000);

  it('down from inside removes the cluster', () => {
    const down = koalaInside('down', '--yes');
    expect(down.code, down.out).toBe(0);
    expect(kind(['get', 'clusters']).split('\n')).not.toContain(name);
  }, 600_000);
});
