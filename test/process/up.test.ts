import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { koala, mutatingCalls, startKoala, waitForOutput } from '../support/cli.ts';
import { REPO, testbed } from '../support/testbed.ts';
import { upWorld } from './world.ts';
import { jsonDocument, upRunDocument } from '../support/json-documents.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

testbed(); // fail loudly (in CI and locally) when the test bed is missing

describe('koala up (process level, fake kind/docker/kubectl, real API server)', () => {
  it('--dry-run prints the plan and executes nothing', async () => {
    const world = await upWorld({ controlPlanes: 3, workers: 3 });
    const result = await koala(world, ['up', '--dry-run']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\$ kind create cluster --name p\w+ --config -/);
    const roles = [...Array(3).fill('role: control-plane'), ...Array(3).fill('role: worker')];
    expect(result.stdout).toMatch(new RegExp(roles.join(String.raw`[\s\S]*`)));
    expect(result.stdout).toMatch(/kindest\/node:v1\.\d+\.\d+@sha256:[0-9a-f]{64}/);
    expect(result.stdout).toMatch(/docker run -d --restart=always --name koala-registry/);
    expect(result.stdout).toMatch(/local-registry-hosting/);
    expect(world.calls()).toEqual([]);
  });

  it('a bad koala.yaml exits 2 naming file, line and field, and runs no tool', async () => {
    const world = await upWorld();
    world.writeConfig('cluster:\n  workers: many\n');
    const result = await koala(world, ['up']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/koala\.yaml:2: cluster\.workers: expected a whole number, got "many"/);
    expect(world.calls()).toEqual([]);
  });

  it('a bad flag exits 2 and runs no tool', async () => {
    const world = await upWorld();
    const result = await koala(world, ['up', '--control-planes', '2']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(
      /flag --control-planes: cluster\.controlPlanes: 2 is not allowed \(accepted: 1, 3 or 5/,
    );
    expect(world.calls()).toEqual([]);
  });

  it('a failed preflight changes nothing and says how to fix it', async () => {
    const world = await upWorld();
    const result = await koala(world, ['up'], { env: { KOALA_FAKE_DOCKER_DOWN: '1' } });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Preflight failed; nothing was changed/);
    expect(result.stderr).toMatch(/Docker daemon reachable: Cannot connect to the Docker daemon/);
    expect(result.stderr).toMatch(/fix: Start Docker/);
    expect(mutatingCalls(world.calls())).toEqual([]);
  });

  it('creates the cluster and registry, then a second run changes nothing', async () => {
    const world = await upWorld({ controlPlanes: 3, workers: 3 });
    const first = await koala(world, ['up', '--json']);
    expect(first.code, first.stderr).toBe(0);
    const report = upRunDocument(first.stdout);
    expect(report.ok).toBe(true);
    const statuses = Object.fromEntries(report.steps.map((s) => [s.id, s.status]));
    expect(statuses).toMatchObject({
      cluster: 'done',
      'cluster-spec': 'done',
      registry: 'done',
      'registry-network': 'done',
      'registry-hosts': 'done',
      'registry-hosting': 'done',
    });
    expect(['done', 'unchanged']).toContain(statuses['nodes-ready']); // kind may already have waited
    const created = world.calls().filter((c) => c.tool === 'kind' && c.argv[0] === 'create');
    expect(created).toHaveLength(1);

    const before = world.calls().length;
    const second = await koala(world, ['up', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const again = upRunDocument(second.stdout);
    expect(again.steps.every((s) => s.status === 'unchanged')).toBe(true);
    expect(mutatingCalls(world.calls().slice(before))).toEqual([]);

    const status = await koala(world, ['status', '--json']);
    expect(status.code, status.stdout).toBe(0);
    const s = jsonDocument('status', status.stdout);
    expect(s.nodes.filter((n) => n.role === 'control-plane')).toHaveLength(3);
    expect(s.nodes.filter((n) => n.role === 'worker')).toHaveLength(3);
    expect(s.nodes.every((n) => n.ready)).toBe(true);
  });

  it('resumes after a failed step without redoing finished work', async () => {
    const world = await upWorld();
    world.fault({
      tool: 'docker',
      args: 'network connect',
      mode: 'fail',
      times: 1,
      stderr: 'Error response from daemon: failed to add interface to sandbox',
    });
    const first = await koala(world, ['up']);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/registry-network\s+FAILED/);
    expect(first.stdout).toMatch(/failed to add interface to sandbox/);
    expect(first.stdout).toMatch(/run `koala up` again/i);

    const second = await koala(world, ['up', '--json']);
    expect(second.code, second.stderr).toBe(0);
    const steps = Object.fromEntries(upRunDocument(second.stdout).steps.map((s) => [s.id, s.status]));
    expect(steps).toMatchObject({ cluster: 'unchanged', registry: 'unchanged', 'registry-network': 'done' });
    expect(world.calls().filter((c) => c.tool === 'kind' && c.argv[0] === 'create')).toHaveLength(1);
  });

  it('Ctrl-C stops kind, exits 130, and the next run resumes from the half-made cluster', async () => {
    const world = await upWorld();
    world.fault({ tool: 'kind', args: 'create cluster', mode: 'hang', times: 1 });
    const run = startKoala(world, ['up']);
    await waitForOutput(run.output, /Creating cluster/);
    await waitForOutput(() => JSON.stringify(world.calls()), /"run","-d","--name","p\w+-worker"/);
    run.child.kill('SIGINT');
    const result = await run.done;
    expect(result.code).toBe(130);
    expect(result.stdout + result.stderr).toMatch(/interrupted[\s\S]*koala up/i);
    // koala stopped its child: the hanging kind process is gone.
    const kindPid = world.calls().find((c) => c.tool === 'kind' && c.argv[0] === 'create')!.pid;
    expect(isAlive(kindPid)).toBe(false);

    const resumed = await koala(world, ['up']);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    expect(resumed.stdout).toMatch(/cluster\s+done/);
    expect(resumed.stdout + resumed.stderr).toMatch(
      /cluster "\S+" was left incomplete by an interrupted create; deleting it and creating it again/,
    );
    expect(resumed.stdout + resumed.stderr).not.toMatch(/exists; reusing it/);
    const kindCalls = world
      .calls()
      .filter((c) => c.tool === 'kind')
      .map((c) => c.argv.slice(0, 2).join(' '));
    expect(kindCalls).toContain('delete cluster'); // the half-made cluster was removed first
  });

  it('stops when the cluster exists with another spec, and --recreate replaces it', async () => {
    const world = await upWorld();
    expect((await koala(world, ['up'])).code).toBe(0);
    const before = world.calls().length;
    const changed = await koala(world, ['up', '--workers', '2']);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(/exists with a different spec:\n\s+worker nodes: 1 → 2/);
    expect(changed.stderr).toMatch(/koala up --recreate/);
    expect(mutatingCalls(world.calls().slice(before))).toEqual([]);

    const recreated = await koala(world, ['up', '--workers', '2', '--recreate', '--json']);
    expect(recreated.code, recreated.stderr).toBe(0);
    const status = jsonDocument('status', (await koala(world, ['status', '--json'])).stdout);
    expect(status.nodes).toHaveLength(3);
  });

  it('starts a stopped registry again instead of replacing it', async () => {
    const world = await upWorld();
    expect((await koala(world, ['up'])).code).toBe(0);
    execFileSync(process.execPath, [path.join(REPO, 'test/fakes/bin/docker'), 'stop', 'koala-registry'], {
      env: world.env,
    });
    const before = world.calls().length;
    const again = await koala(world, ['up', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const registry = upRunDocument(again.stdout).steps.find((s) => s.id === 'registry');
    expect(registry).toMatchObject({ status: 'done', detail: 'started' });
    expect(mutatingCalls(world.calls().slice(before)).map((c) => c.argv.slice(0, 2).join(' '))).toEqual([
      'start koala-registry',
    ]);
  });

  it('--only runs one step after verifying what it needs', async () => {
    const world = await upWorld();
    const blocked = await koala(world, ['up', '--only', 'registry-hosting']);
    expect(blocked.code).toBe(1);
    expect(blocked.stdout).toMatch(/"cluster" is not done/);
    expect(mutatingCalls(world.calls())).toEqual([]);
    expect((await koala(world, ['up'])).code).toBe(0);
    const only = await koala(world, ['up', '--only', 'registry', '--json']);
    const steps = upRunDocument(only.stdout).steps;
    expect(steps.filter((s) => s.status !== 'skipped').map((s) => s.id)).toEqual(['registry']);
  });
});

describe('koala doctor', () => {
  it('reports every check with pass, warn or fail and its fix, and changes nothing', async () => {
    const world = await upWorld();
    // kind 0.31 still writes kubeadm's v1beta3 config, which the pinned Kubernetes rejects.
    const result = await koala(world, ['doctor', '--json'], {
      env: { KOALA_FAKE_DOCKER_MEM: String(5 * 1024 ** 3), KOALA_FAKE_KIND_VERSION: 'v0.31.0' },
    });
    const report = jsonDocument('doctor', result.stdout);
    const byId = Object.fromEntries(report.checks.map((c) => [c.id, c]));
    expect(result.code).toBe(1);
    expect(report.ok).toBe(false);
    expect(byId.docker!.status).toBe('pass');
    expect(byId.kind).toMatchObject({ status: 'fail', fix: expect.stringMatching(/kind/) });
    expect(byId.memory!.status).toBe('warn'); // 1 control plane + 1 worker fit; the platform on top does not
    expect(Object.keys(byId)).toEqual(
      expect.arrayContaining(['docker', 'kind', 'helm', 'kubectl', 'cgroup', 'memory', 'ports']),
    );
    expect(mutatingCalls(world.calls())).toEqual([]);

    const plain = await koala(world, ['doctor'], { env: { KOALA_FAKE_KIND_VERSION: 'v0.31.0' } });
    expect(plain.stdout).toMatch(
      /✗ fail {2}kind >= 0\.32\.0: kind v0\.31\.0 is too old[\s\S]*fix: Run `koala tools install kind`/,
    );
    expect(plain.stdout).toMatch(/check\(s\) failed: fix them, then run `koala doctor` again/);
  });
});

describe('koala down', () => {
  it('needs --yes when not in a terminal, then deletes everything, and a second down is a no-op', async () => {
    const world = await upWorld();
    expect((await koala(world, ['up'])).code).toBe(0);
    const refused = await koala(world, ['down']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/Add --yes/);

    const down = await koala(world, ['down', '--yes']);
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toMatch(/Removed: cluster-delete, registry-delete/);
    const again = await koala(world, ['down', '--yes']);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/Nothing to delete/);
    const status = await koala(world, ['status', '--json']);
    expect(status.code).toBe(1);
    expect(jsonDocument('status', status.stdout)).toMatchObject({ healthy: false, cluster: { exists: false } });
  });

  it('--keep-registry keeps the registry container', async () => {
    const world = await upWorld();
    expect((await koala(world, ['up'])).code).toBe(0);
    expect((await koala(world, ['down', '--yes', '--keep-registry'])).code).toBe(0);
    const removed = world
      .calls()
      .filter((c) => c.tool === 'docker' && c.argv[0] === 'rm')
      .map((c) => c.argv.join(' '));
    expect(removed.some((l) => l.includes('koala-registry'))).toBe(false);
  });
});
