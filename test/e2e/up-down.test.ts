/**
 * End to end: the real `koala up` / `koala down` with the real Docker daemon and the real
 * registry, the kind stand-in (a real API server per cluster), counting API writes from the
 * API server's audit log.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { freePort, hostPortsYaml, koala, makeWorld } from '../support/cli.ts';
import { testbed } from '../support/testbed.ts';
import { auditLog, clientWrites } from './audit.ts';
import { jsonDocument, upRunDocument } from '../support/json-documents.ts';

testbed();

const docker = (...args: string[]): string => execFileSync('docker', args, { encoding: 'utf8' }).trim();

describe('koala up and down end to end (real Docker, kind stand-in, real API server)', () => {
  it('creates an HA cluster with a registry, changes nothing on a second run, and down removes it all', async () => {
    const world = makeWorld({ fakes: ['kind', 'kubectl'], env: { KOALA_IGNORE_CHECKS: 'inotify' } });
    const name = `e${randomBytes(3).toString('hex')}`;
    const registry = `reg-${name}`;
    const registryPort = await freePort();
    world.writeConfig(
      [
        `cluster: { name: ${name}, controlPlanes: 3, workers: 3 }`,
        `registry: { name: ${registry}, port: ${registryPort}, image: koala-test/registry:3 }`,
        ...(await hostPortsYaml()),
        'components:',
        '  spark-operator: { enabled: false }',
        '  object-store: { enabled: false }',
        '  airflow: { enabled: false }',
      ].join('\n'),
    );
    try {
      const up = await koala(world, ['up']);
      expect(up.code, up.stdout + up.stderr).toBe(0);
      expect(up.stdout).toMatch(new RegExp(`koala is up in .*cluster "${name}" \\(3 control-plane, 3 worker`));

      // Nodes are Ready and kubectl's context is set, as kind would leave it.
      const kubeconfig = readFileSync(world.env.KUBECONFIG!, 'utf8');
      expect(kubeconfig).toMatch(new RegExp(`current-context: kind-${name}`));
      const nodes = execFileSync(
        'kubectl',
        [
          '--kubeconfig',
          world.env.KUBECONFIG!,
          'get',
          'nodes',
          '-o',
          'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}',
        ],
        { encoding: 'utf8' },
      );
      expect(nodes.trim().split(' ').sort()).toEqual(
        [
          `${name}-control-plane`,
          `${name}-control-plane2`,
          `${name}-control-plane3`,
          `${name}-worker`,
          `${name}-worker2`,
          `${name}-worker3`,
        ]
          .map((n) => `${n}=True`)
          .sort(),
      );
      // The registry is wired as kind's recipe has it: on the kind network, hosts.toml on each node.
      expect(docker('inspect', '-f', '{{json .NetworkSettings.Networks}}', registry)).toContain('"kind"');
      expect(
        docker('exec', `${name}-worker2`, 'cat', `/etc/containerd/certs.d/localhost:${registryPort}/hosts.toml`),
      ).toBe(`[host."http://${registry}:5000"]`);
      // kind's load balancer is listed with the nodes but runs no containerd: it gets no hosts.toml.
      const hostsToml = `/etc/containerd/certs.d/localhost:${registryPort}/hosts.toml`;
      expect(() => docker('exec', `${name}-external-load-balancer`, 'cat', hostsToml)).toThrow(/No such file/);
      const catalog = await fetch(`http://127.0.0.1:${registryPort}/v2/_catalog`);
      expect(catalog.status).toBe(200);
      const firstWrites = clientWrites(auditLog(world, name));
      expect(firstWrites.length).toBeGreaterThan(0);

      // A second `koala up` writes nothing to the API server.
      const before = auditLog(world, name).length;
      const again = await koala(world, ['up', '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect(upRunDocument(again.stdout).steps.every((s) => s.status === 'unchanged')).toBe(true);
      await new Promise((r) => setTimeout(r, 1500)); // the audit backend writes asynchronously
      expect(clientWrites(auditLog(world, name).slice(before))).toEqual([]);

      const status = await koala(world, ['status', '--json']);
      expect(status.code, status.stdout).toBe(0);
      jsonDocument('status', status.stdout);
    } finally {
      const down = await koala(world, ['down', '--yes']);
      expect(down.code, down.stdout + down.stderr).toBe(0);
    }
    // Everything is gone: node containers, the registry and its volume, the context, the control plane.
    expect(docker('ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${name}`, '--format', '{{.Names}}')).toBe('');
    expect(docker('ps', '-a', '--filter', `name=^${registry}$`, '--format', '{{.Names}}')).toBe('');
    expect(docker('volume', 'ls', '-q', '--filter', `name=^${registry}-data$`)).toBe('');
    expect(readFileSync(world.env.KUBECONFIG!, 'utf8')).not.toContain(`kind-${name}`);
    // No process of its control plane is left (the bracket keeps pgrep from matching itself).
    expect(
      execFileSync('bash', ['-c', `pgrep -f "[c]lusters/kind-${name}/" || true`], { encoding: 'utf8' }).trim(),
    ).toBe('');
  });
});
