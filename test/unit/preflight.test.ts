import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPreflight, type CheckOutcome } from '../../src/cluster/preflight.ts';
import { clusterSpec, resolveNodeImage } from '../../src/cluster/spec.ts';
import { defaultConfig } from '../../src/config/schema.ts';

const FAKES = path.resolve(import.meta.dirname, '../fakes/bin');
const saved = { ...process.env };

/** A helm that only answers `helm version --template '{{.Version}}'`, as helm does. */
function helmPrinting(version: string): string {
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'koala-helm-')), 'helm');
  writeFileSync(
    file,
    [
      '#!/bin/sh',
      `[ "$1" = version ] && printf '%s' '${version}' && exit 0`,
      'echo "Error: unknown command \\"$1\\" for \\"helm\\"" >&2; exit 1',
      '',
    ].join('\n'),
  );
  chmodSync(file, 0o755);
  return file;
}

async function check(
  options: {
    env?: Record<string, string>;
    proc?: Record<string, string>;
    busy?: number[];
    helm?: string;
    configured?: Record<string, number[]>;
  } = {},
): Promise<Record<string, CheckOutcome>> {
  Object.assign(process.env, { KOALA_HELM: helmPrinting(options.helm ?? 'v4.3.1'), ...options.env });
  const config = defaultConfig('/project');
  const spec = clusterSpec(config, resolveNodeImage(config.cluster, '2'));
  const { outcomes } = await runPreflight({
    config,
    spec,
    platform: 'linux',
    readProc: async (p) => options.proc?.[path.basename(p)] ?? '1048576',
    isPortFree: async (port) => !(options.busy ?? []).includes(port),
    configuredHostPorts: async (container) => options.configured?.[container] ?? [],
  });
  return Object.fromEntries(outcomes.map((o) => [o.id, o]));
}

describe('preflight checks', () => {
  beforeEach(() => {
    Object.assign(process.env, {
      KOALA_FAKE_STATE: mkdtempSync(path.join(os.tmpdir(), 'koala-pre-')),
      KOALA_DOCKER: path.join(FAKES, 'docker'),
      KOALA_KIND: path.join(FAKES, 'kind'),
      KOALA_KUBECTL: path.join(FAKES, 'kubectl'),
    });
  });
  afterEach(() => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
    Object.assign(process.env, saved);
  });

  it('passes on a good machine', async () => {
    const result = await check();
    expect(Object.values(result).map((o) => [o.id, o.status])).toEqual([
      ['docker', 'pass'],
      ['kind', 'pass'],
      ['helm', 'pass'],
      ['kubectl', 'pass'],
      ['cgroup', 'pass'],
      ['memory', 'pass'],
      ['ports', 'pass'],
      ['inotify', 'pass'],
    ]);
  });

  it('fails without Docker, with the daemon error and how to start it', async () => {
    const { docker, memory } = await check({ env: { KOALA_FAKE_DOCKER_DOWN: '1' } });
    expect(docker).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/Cannot connect to the Docker daemon/),
      fix: expect.stringMatching(/Start Docker/),
    });
    expect(memory!.status).toBe('warn');
  });

  it('fails a kind before 0.32 (kubeadm v1beta3 config, kind load), with the install command as the fix', async () => {
    const install = expect.stringMatching(/go install sigs\.k8s\.io\/kind@v0\.33\.0/);
    for (const old of ['v0.20.0', 'v0.24.0', 'v0.27.0', 'v0.31.9']) {
      const detail = expect.stringMatching(
        new RegExp(`kind ${old.replaceAll('.', '\\.')} is too old: .*v1beta3.*needs 0\\.32\\.0\\+`),
      );
      expect((await check({ env: { KOALA_FAKE_KIND_VERSION: old } })).kind, old).toMatchObject({
        status: 'fail',
        detail,
        fix: install,
      });
    }
    expect((await check({ env: { KOALA_FAKE_KIND_VERSION: 'v0.32.0' } })).kind!.status).toBe('pass');
  });

  it('accepts helm 3.19+ and 4.x, and fails older helm', async () => {
    expect((await check({ helm: 'v3.22.0' })).helm!.status).toBe('pass');
    expect((await check({ helm: 'v3.18.4' })).helm).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/helm v3\.18\.4 is too old/),
    });
  });

  it('gives the exact sysctl fix for low inotify limits', async () => {
    const { inotify } = await check({ proc: { max_user_watches: '8192', max_user_instances: '128' } });
    expect(inotify).toMatchObject({
      status: 'fail',
      detail: 'fs.inotify.max_user_watches=8192 (needs 524288), fs.inotify.max_user_instances=128 (needs 512)',
    });
    expect(inotify!.fix).toMatch(
      /^sudo sysctl fs\.inotify\.max_user_watches=524288 fs\.inotify\.max_user_instances=512/,
    );
  });

  it('weighs Docker memory against the node count', async () => {
    expect((await check({ env: { KOALA_FAKE_DOCKER_MEM: String(2 * 1024 ** 3) } })).memory).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/Docker has 2\.0 GiB; 6 nodes need about 4\.5 GiB/),
    });
    expect((await check({ env: { KOALA_FAKE_DOCKER_MEM: String(6 * 1024 ** 3) } })).memory!.status).toBe('warn');
  });

  it('fails when a port koala needs is taken, naming the field to change', async () => {
    const { ports } = await check({ busy: [5001, 8080] });
    expect(ports).toMatchObject({
      status: 'fail',
      detail: '5001 (the registry, registry.port) is in use; 8080 (airflow, ports.airflow) is in use',
    });
  });

  it("passes a port held for koala's own node or registry container, running or cut short", async () => {
    // The names koala gives them: kind's first control plane of cluster "koala", and the registry.
    const { ports } = await check({
      busy: [5001, 8080],
      configured: { 'koala-control-plane': [8080, 8081], 'koala-registry': [5001] },
    });
    expect(ports).toMatchObject({ status: 'pass' });
    const other = await check({ busy: [8080], configured: { 'someone-else': [8080] } });
    expect(other.ports).toMatchObject({ status: 'fail', detail: '8080 (airflow, ports.airflow) is in use' });
  });

  it('warns on a cgroup v1 Docker that koala picks an older Kubernetes for', async () => {
    const { cgroup } = await check({ env: { KOALA_FAKE_DOCKER_CGROUP: '1' } });
    expect(cgroup).toMatchObject({ status: 'warn', detail: expect.stringMatching(/cgroup v1.*using v1\.34\.11/) });
  });

  it('fails on a cgroup v1 Docker when the user pinned a version it cannot run', async () => {
    process.env.KOALA_FAKE_DOCKER_CGROUP = '1';
    const config = defaultConfig('/project');
    config.cluster.kubernetesVersion = 'v1.36.4';
    config.cluster.kubernetesVersionPinned = true;
    const { outcomes } = await runPreflight({
      config,
      spec: clusterSpec(config, resolveNodeImage(config.cluster, '2')),
      platform: 'darwin',
      isPortFree: async () => true,
    });
    expect(outcomes.find((o) => o.id === 'cgroup')).toMatchObject({
      status: 'fail',
      detail: expect.stringMatching(/Kubernetes v1\.36\.4 cannot run on this host/),
    });
  });
});
