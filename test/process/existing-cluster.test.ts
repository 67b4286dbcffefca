/**
 * `koala up --context` on a cluster koala did not create: a real control plane (made here with
 * the kind stand-in, as a team's cluster would be made by someone else) reached through a
 * context of another name. koala asks before it installs there, installs the platform from the
 * chart mirror with no kind and no registry, reports it healthy, changes nothing on a second
 * run, and `down` takes away what it installed and leaves the cluster in place.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { koala, makeWorld, type World } from '../support/cli.ts';
import {
  platformFromMirrorYaml,
  platformVolumes,
  startChartMirror,
  type ChartMirror,
} from '../support/chart-mirror.ts';
import { helmRecorder, type HelmRecorder } from '../support/platform.ts';
import { testbed } from '../support/testbed.ts';
import { auditLog, clientWrites } from '../e2e/audit.ts';
import { jsonDocument, upRunDocument } from '../support/json-documents.ts';

const name = `ex${randomBytes(2).toString('hex')}`;
const context = `team-${name}`;
let world: World;
let mirror: ChartMirror;
let recorder: HelmRecorder;

function kubectl(args: string[], input?: string): string {
  return execFileSync('kubectl', ['--kubeconfig', world.env.KUBECONFIG!, '--context', context, ...args], {
    encoding: 'utf8',
    ...(input ? { input } : {}),
  });
}

const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  koala(world, args, { env: { KOALA_HELM: recorder.wrapper, ...env } });
const helmWrites = (from: number) =>
  recorder
    .calls()
    .slice(from)
    .filter((c) => ['upgrade', 'install', 'uninstall'].includes(c.args[0] ?? ''));

beforeAll(async () => {
  const { binDir } = testbed();
  mirror = await startChartMirror(path.join(binDir, 'helm3'));
  recorder = helmRecorder(path.join(binDir, 'helm4'));
  world = makeWorld();
  // Someone else's cluster: made without koala, reached through a context koala did not name.
  execFileSync(world.env.KOALA_KIND!, ['create', 'cluster', '--name', name], { env: world.env, stdio: 'pipe' });
  execFileSync('kubectl', [
    '--kubeconfig',
    world.env.KUBECONFIG!,
    'config',
    'set-context',
    context,
    `--cluster=kind-${name}`,
    `--user=kind-${name}`,
  ]);
  world.writeConfig(platformFromMirrorYaml(mirror).join('\n'));
  // The test bed has no volume provisioner: the volumes MinIO and Postgres claim.
  for (const pv of platformVolumes(name, { objectStore: 'object-store', airflow: 'airflow' }))
    kubectl(['apply', '-f', '-'], JSON.stringify(pv));
}, 180_000);

afterAll(async () => {
  if (world) execFileSync(world.env.KOALA_KIND!, ['delete', 'cluster', '--name', name], { env: world.env });
  await mirror?.close();
});

describe('koala on a cluster it did not create (--context)', () => {
  it('asks first: without a terminal or --yes it stops with exit 2 and changes nothing', async () => {
    const before = recorder.calls().length;
    const refused = await run(['up', '--context', context]);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain(`context "${context}"`);
    expect(refused.stderr).toContain('a cluster koala did not create, and needs your yes first');
    expect(refused.stderr).toContain('Add --yes');
    expect(helmWrites(before)).toEqual([]);
    expect(kubectl(['get', 'namespaces', '-o', 'name'])).not.toContain('koala-system');
  });

  it('preflight stops before any change: a namespace koala did not make, too few rights', async () => {
    const before = recorder.calls().length;
    kubectl(['create', 'namespace', `theirs-${name}`]);
    const taken = await run(['up', '--context', context, '--yes'], { KOALA_JOB_NAMESPACES: `theirs-${name}` });
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain(`theirs-${name} already exist and koala did not make them`);
    expect(taken.stderr).toContain('fix: Pick other names in koala.yaml');

    // A context whose user may only read: a ServiceAccount bound to the built-in view role.
    kubectl(['create', 'serviceaccount', 'reader', '-n', 'default']);
    kubectl([
      'create',
      'clusterrolebinding',
      `reader-${name}`,
      '--clusterrole=view',
      '--serviceaccount=default:reader',
    ]);
    const token = kubectl(['create', 'token', 'reader', '-n', 'default']).trim();
    const kc = ['--kubeconfig', world.env.KUBECONFIG!];
    execFileSync('kubectl', [...kc, 'config', 'set-credentials', `reader-${name}`, '--token', token]);
    execFileSync('kubectl', [
      ...kc,
      'config',
      'set-context',
      `reader-${name}`,
      `--cluster=kind-${name}`,
      `--user=reader-${name}`,
    ]);
    const weak = await run(['up', '--context', `reader-${name}`, '--yes']);
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(
      /rights to install the platform: this context may not create namespaces, create secrets/,
    );
    expect(helmWrites(before)).toEqual([]);
    expect(kubectl(['get', 'namespaces', '-o', 'name'])).not.toContain('koala-system');
  });

  it('installs the platform with no kind and no registry, and says what preflight found', async () => {
    const calls = world.calls().length;
    const result = await run(['up', '--context', context, '--yes']);
    expect(result.code, result.stderr + result.stdout).toBe(0);
    expect(result.stdout).toMatch(/airflow\s+done/);
    expect(result.stdout).toMatch(/network-policies\s+done/);
    expect(result.stdout).not.toMatch(/^\s+registry/m);
    expect(result.stdout).toContain(`koala is up in`);
    expect(result.stdout).toContain(`context "${context}" (a cluster koala did not create)`);
    // No host ports on someone else's cluster: services are reached with port-forward.
    expect(result.stdout).not.toContain('http://127.0.0.1:');
    expect(result.stdout).toContain('koala port-forward object-store');
    // The test bed has no default StorageClass and no network plugin: warnings, not failures.
    const output = result.stdout + result.stderr;
    expect(output).toContain('warning: a default StorageClass for volumes: no default StorageClass');
    expect(output).toContain('warning: the network plugin enforces NetworkPolicies: unknown');
    // Neither kind nor Docker is asked anything.
    expect(
      world
        .calls()
        .slice(calls)
        .filter((c) => c.tool === 'kind' || c.tool === 'docker'),
    ).toEqual([]);
  }, 600_000);

  it('doctor runs the checks for a cluster koala did not create', async () => {
    const doctor = await run(['doctor', '--context', context, '--json']);
    const parsed = jsonDocument('doctor', doctor.stdout);
    expect(parsed.checks.map((c) => c.id)).toEqual([
      'helm',
      'api-server',
      'rbac-rights',
      'storage-class',
      'network-policies',
      'namespaces',
    ]);
    expect(parsed.ok).toBe(true);
  });

  it('status reaches it through the context and reports every component healthy', async () => {
    const status = await run(['status', '--context', context, '--json']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    const parsed = jsonDocument('status', status.stdout);
    expect(parsed.cluster).toMatchObject({ context, existing: true, reachable: true });
    expect(parsed.components.map((c) => [c.id, c.ok])).toEqual([
      ['platform', true],
      ['spark-operator', true],
      ['object-store', true],
      ['airflow', true],
      ['gateway', true],
      ['rbac', true],
      ['network-policies', true],
    ]);
    const text = await run(['status', '--context', context]);
    expect(text.stdout).toContain(`Cluster of context "${context}" (koala did not create it): running`);
  });

  it('a second up asks nothing more and changes nothing: no helm write, no API write', async () => {
    const before = recorder.calls().length;
    const audited = auditLog(world, name).length;
    const again = await run(['up', '--context', context, '--json']);
    expect(again.code, again.stderr).toBe(0);
    const report = upRunDocument(again.stdout);
    expect(report.steps.filter((s) => s.status !== 'unchanged')).toEqual([]);
    expect(helmWrites(before)).toEqual([]);
    await new Promise((r) => setTimeout(r, 1500)); // the audit backend writes asynchronously
    expect(clientWrites(auditLog(world, name).slice(audited)).map((e) => `${e.verb} ${e.requestURI}`)).toEqual([]);
  });

  it("refuses the context of one of koala's own kind clusters (exit 2): --name reaches those", async () => {
    const home = path.join(world.env.KOALA_HOME!, 'clusters', 'mine');
    mkdirSync(home, { recursive: true });
    writeFileSync(path.join(home, 'cluster.json'), JSON.stringify({ phase: 'created', updatedAt: '' }));
    const refused = await run(['up', '--context', 'kind-mine', '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`Context "kind-mine" is koala's own kind cluster "mine"`);
    expect(refused.stderr).toContain('koala up --name mine');
  });

  it('down needs a yes, then uninstalls what up installed and leaves the cluster in place', async () => {
    const asked = await run(['down', '--context', context]);
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain(`removes the platform and its data from context "${context}"`);

    const before = recorder.calls().length;
    const down = await run(['down', '--context', context, '--yes']);
    expect(down.code, down.stderr + down.stdout).toBe(0);
    expect(
      recorder
        .calls()
        .slice(before)
        .filter((c) => c.args[0] === 'uninstall')
        .map((c) => c.args[1]),
    ).toEqual([
      'koala-network-policies',
      'koala-rbac',
      'airflow',
      'koala-postgres',
      'minio',
      'spark-operator',
      'koala-platform',
    ]);
    expect(world.calls().filter((c) => c.tool === 'kind' && c.argv[0] === 'delete')).toEqual([]);
    // The cluster is still there and answers, with its node and its own namespaces.
    expect(kubectl(['get', 'nodes', '-o', 'name']).trim()).not.toBe('');
    expect(kubectl(['get', 'namespace', 'kube-system', '-o', 'name']).trim()).toBe('namespace/kube-system');
    // koala's namespaces are gone or going (the namespace controller empties them first).
    const left = kubectl([
      'get',
      'namespaces',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.phase} {end}',
    ]);
    for (const ns of ['koala-system', 'spark-operator', 'object-store', 'airflow', 'spark-jobs'])
      expect(left.split(' ').filter((e) => e.startsWith(`${ns}=`) && !e.endsWith('=Terminating'))).toEqual([]);
    const status = await run(['status', '--context', context, '--json']);
    expect(jsonDocument('status', status.stdout).cluster).toMatchObject({ reachable: true, existing: true });

    const again = await run(['down', '--context', context, '--yes']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('Nothing to delete.');
  }, 600_000);
});
