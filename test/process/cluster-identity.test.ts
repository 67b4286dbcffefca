/**
 * One cluster identity across commands, a registry shared on purpose, and kind's load balancer
 * kept apart from the nodes: the built CLI with fake kind/docker and a real API server per cluster.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { freePort, koala, makeWorld, type World } from '../support/cli.ts';
import { testbed } from '../support/testbed.ts';
import { jsonDocument, upRunDocument } from '../support/json-documents.ts';

testbed(); // fail loudly (in CI and locally) when the test bed is missing

const unique = (prefix: string): string => `${prefix}${randomBytes(3).toString('hex')}`;

/**
 * A project whose koala.yaml names no cluster (so "koala" is the default) and maps no host
 * ports, so several clusters fit side by side; components beyond the registry are off.
 */
type IdentityWorld = World & { registryPort: number; cleanup: (name: string) => void };

async function world(options: { controlPlanes?: number; workers?: number } = {}): Promise<IdentityWorld> {
  const w = makeWorld({ env: { KOALA_IGNORE_CHECKS: 'inotify' } });
  const registryPort = await freePort();
  w.writeConfig(
    [
      `cluster: { controlPlanes: ${options.controlPlanes ?? 1}, workers: ${options.workers ?? 0} }`,
      `registry: { port: ${registryPort} }`,
      'ports: { airflow: 0, objectStore: 0, objectStoreConsole: 0, gateway: 0 }',
      'components:',
      '  spark-operator: { enabled: false }',
      '  object-store: { enabled: false }',
      '  airflow: { enabled: false }',
    ].join('\n'),
  );
  const names = new Set<string>();
  onTestFinished(async () => {
    // Whatever a test left behind: the stand-in's control plane processes above all.
    for (const name of names) await koala(w, ['down', '--yes', '--name', name]);
  });
  return Object.assign(w, { registryPort, cleanup: (name: string) => void names.add(name) });
}

/** A container as the fake docker keeps it: the files written into it by `docker exec`. */
function fakeContainer(w: World, name: string): { Files: Record<string, string> } | undefined {
  const file = path.join(w.state, 'docker', 'containers', `${name}.json`);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as { Files: Record<string, string> }) : undefined;
}

describe('the cluster a command acts on', () => {
  it('`up --name` is what status sees with --name or KOALA_CLUSTER_NAME; plain status names it', async () => {
    const w = await world({ workers: 1 });
    const dev = unique('dev');
    w.cleanup(dev);
    const up = await koala(w, ['up', '--name', dev]);
    expect(up.code, up.stdout + up.stderr).toBe(0);

    const byFlag = await koala(w, ['status', '--name', dev, '--json']);
    const byEnv = await koala(w, ['status', '--json'], { env: { KOALA_CLUSTER_NAME: dev } });
    for (const result of [byFlag, byEnv]) {
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const status = jsonDocument('status', result.stdout);
      expect(status.cluster).toMatchObject({ name: dev, exists: true, context: `kind-${dev}` });
      expect(status.nodes.map((n) => n.name).sort()).toEqual([`${dev}-control-plane`, `${dev}-worker`]);
      expect(status.healthy).toBe(true);
    }

    // The default cluster ("koala") is not there; status says which one is, and how to look at it.
    const plain = await koala(w, ['status']);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toContain(`Cluster "koala": not created (kind has cluster "${dev}")`);
    expect(plain.stdout).toContain(`\`koala status --name ${dev}\``);
  });

  it('a name kind would refuse stops every command before any tool runs (exit 2, field and rule named)', async () => {
    const w = await world();
    for (const args of [['up'], ['status'], ['down', '--yes'], ['doctor']]) {
      const result = await koala(w, [...args, '--name', 'Dev_1']);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('flag --name: cluster.name: "Dev_1" is not valid (accepted: a kind cluster');
    }
    expect(w.calls()).toEqual([]);
  });

  it("an HA cluster's load balancer is no node: it gets no registry config and is not counted", async () => {
    const w = await world({ controlPlanes: 3, workers: 1 });
    const ha = unique('ha');
    w.cleanup(ha);
    const up = await koala(w, ['up', '--name', ha, '--json']);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    upRunDocument(up.stdout);
    // kind's load balancer exists (the stand-in makes it as kind does) and holds no hosts.toml.
    expect(fakeContainer(w, `${ha}-external-load-balancer`)).toMatchObject({ Files: {} });
    const hostsToml = `/etc/containerd/certs.d/localhost:${w.registryPort}/hosts.toml`;
    for (const node of [`${ha}-control-plane`, `${ha}-control-plane2`, `${ha}-control-plane3`, `${ha}-worker`]) {
      expect(fakeContainer(w, node)?.Files[hostsToml], node).toBe('[host."http://koala-registry:5000"]\n');
    }

    const again = await koala(w, ['up', '--name', ha, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const steps = upRunDocument(again.stdout).steps;
    expect(steps.every((s) => s.status === 'unchanged')).toBe(true);
    expect(steps.find((s) => s.id === 'cluster')?.detail).toBe('4 nodes exist');
    expect(steps.find((s) => s.id === 'registry-hosts')?.detail).toBe('4 nodes configured');
  });
});

describe('one registry, shared by the clusters that name it', () => {
  it('`down` of one cluster keeps the registry another uses, is idempotent; the last down removes it', async () => {
    const w = await world();
    const [a, b] = [unique('a'), unique('b')];
    w.cleanup(a);
    w.cleanup(b);
    for (const name of [a, b]) {
      const up = await koala(w, ['up', '--name', name]);
      expect(up.code, up.stdout + up.stderr).toBe(0);
    }

    const downB = await koala(w, ['down', '--yes', '--name', b]);
    expect(downB.code, downB.stdout + downB.stderr).toBe(0);
    expect(downB.stdout).toContain('Removed: cluster-delete.');
    expect(downB.stdout).toContain(`registry-delete (kept: cluster "${a}" uses it)`);
    const statusA = jsonDocument('status', (await koala(w, ['status', '--name', a, '--json'])).stdout);
    expect(statusA.components.find((c) => c.id === 'registry')).toMatchObject({ ok: true });
    expect(statusA.healthy).toBe(true);
    expect(fakeContainer(w, 'koala-registry')).toBeDefined();

    // Again: nothing to delete, and the registry still stays.
    const before = w.calls().length;
    const again = await koala(w, ['down', '--yes', '--name', b]);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toContain('Nothing to delete.\n');
    const kept = `registry-delete (kept: cluster "${a}" uses it)`;
    expect(again.stdout).toContain(`Left alone: cluster-delete (no such cluster), ${kept}.`);
    const removals = w
      .calls()
      .slice(before)
      .filter((c) => c.tool === 'docker' && /^(rm|volume)$/.test(c.argv[0]!));
    expect(removals).toEqual([]);

    // The last cluster takes the registry and its volume with it.
    const downA = await koala(w, ['down', '--yes', '--name', a]);
    expect(downA.code, downA.stdout + downA.stderr).toBe(0);
    expect(downA.stdout).toContain('Removed: cluster-delete, registry-delete.');
    expect(fakeContainer(w, 'koala-registry')).toBeUndefined();
  }, 300_000);
});
