/**
 * `koala up` end to end, as a user runs it: the built CLI, the kind stand-in (a real control
 * plane per cluster), the chart mirror on 127.0.0.1, Helm through a wrapper that records every
 * argument list, and a password of the user's own in .env.private. Then status, credentials,
 * dags sync and users kubeconfig. Throughout, no credential may appear in any output or in the
 * argument list of any process on the machine (sampled from /proc while koala runs).
 */
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostPortsYaml, koala, makeWorld, type KoalaResult, type World } from '../support/cli.ts';
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

const name = `pu${randomBytes(2).toString('hex')}`;
const password = `my-own-${randomBytes(8).toString('hex')}`;
let world: World;
let mirror: ChartMirror;
let recorder: HelmRecorder;
const outputs: string[] = [];
const commandLines = new Set<string>();

/** Every process's argument list, as `ps` shows it, sampled until stopped. */
function sampleProcessArgs(): () => void {
  let stop = false;
  const tick = (): void => {
    if (stop) return;
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        commandLines.add(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' '));
      } catch {
        // gone already
      }
    }
    setTimeout(tick, 100);
  };
  tick();
  return () => {
    stop = true;
  };
}

async function run(args: string[]): Promise<KoalaResult> {
  const stopSampling = sampleProcessArgs();
  try {
    const result = await koala(world, args, { env: { KOALA_HELM: recorder.wrapper } });
    outputs.push(result.stdout, result.stderr);
    return result;
  } finally {
    stopSampling();
  }
}

function kubectlWorld(args: string[], input?: string): string {
  return execFileSync('kubectl', ['--kubeconfig', world.env.KUBECONFIG!, '--context', `kind-${name}`, ...args], {
    encoding: 'utf8',
    ...(input ? { input } : {}),
  });
}

beforeAll(async () => {
  const { binDir } = testbed();
  mirror = await startChartMirror(path.join(binDir, 'helm3'));
  recorder = helmRecorder(path.join(binDir, 'helm4'));
  world = makeWorld({ env: { KOALA_IGNORE_CHECKS: 'inotify' } });
  world.writeConfig(
    [
      'cluster:',
      `  name: ${name}`,
      '  controlPlanes: 1',
      '  workers: 1',
      'registry:',
      '  enabled: false',
      ...(await hostPortsYaml()),
      ...platformFromMirrorYaml(mirror),
    ].join('\n'),
  );
  writeFileSync(path.join(world.project, '.env.private'), `AIRFLOW_PASSWORD=${password}\n`);
  chmodSync(path.join(world.project, '.env.private'), 0o600);
});

afterAll(async () => {
  await koala(world, ['down', '--yes']);
  await mirror?.close();
});

describe('koala up with the platform, end to end', () => {
  it('refuses a placeholder credential in .env.private before changing anything (exit 2)', async () => {
    const file = path.join(world.project, '.env.private');
    writeFileSync(file, `AIRFLOW_USERNAME=ana\nMINIO_SECRET_KEY=MY_MINIO_SECRET_KEY\n`);
    const refused = await run(['up']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${file}:2: MINIO_SECRET_KEY: is a placeholder`);
    expect(world.calls().filter((c) => c.tool === 'kind' && c.argv[0] === 'create')).toEqual([]);
    writeFileSync(file, `AIRFLOW_PASSWORD=${password}\n`);
  });

  it('installs the platform; a failed component resumes alone on the next run', async () => {
    const first = await run([
      'up',
      '--verbose',
      '--skip',
      'object-store,object-store-buckets,airflow-postgres,airflow',
    ]);
    expect(first.code, first.stderr + first.stdout).toBe(0);
    expect(first.stdout).toMatch(/spark-operator\s+done/);
    // The test bed has no volume provisioner: offer MinIO and Postgres their volumes, then resume.
    for (const pv of platformVolumes(name, { objectStore: 'object-store', airflow: 'airflow' }))
      kubectlWorld(['apply', '-f', '-'], JSON.stringify(pv));
    const second = await run(['up', '--verbose']);
    expect(second.code, second.stderr + second.stdout).toBe(0);
    expect(second.stdout).toMatch(/airflow\s+done/);
    expect(second.stdout).toMatch(/spark-operator\s+already done/);
    // The end of `up`: every endpoint with the command that reaches it, and where the credentials are.
    expect(second.stdout).toMatch(/koala port-forward airflow/);
    expect(second.stdout).toMatch(/koala port-forward object-store-console/);
    expect(second.stdout).toMatch(/koala credentials/);
  });

  it('a third run changes nothing: no helm install, no API write', async () => {
    const before = recorder.calls().length;
    const audited = auditLog(world, name).length;
    const third = await run(['up', '--json']);
    expect(third.code, third.stderr).toBe(0);
    const report = upRunDocument(third.stdout);
    expect(report.steps.filter((s) => s.status !== 'unchanged' && s.status !== 'skipped')).toEqual([]);
    expect(
      recorder
        .calls()
        .slice(before)
        .filter((c) => c.args[0] === 'upgrade'),
    ).toEqual([]);
    await new Promise((r) => setTimeout(r, 1500)); // the audit backend writes asynchronously
    expect(clientWrites(auditLog(world, name).slice(audited)).map((e) => `${e.verb} ${e.requestURI}`)).toEqual([]);
  });

  it('status reports each component', async () => {
    const status = await run(['status', '--json']);
    const parsed = jsonDocument('status', status.stdout);
    expect(parsed.components.map((c) => [c.id, c.ok])).toEqual([
      ['platform', true],
      ['spark-operator', true],
      ['object-store', true],
      ['airflow', true],
      ['gateway', true],
      ['rbac', true],
      ['network-policies', true],
    ]);
  });

  it("credentials: the user's own password, on request only", async () => {
    const result = await koala(world, ['credentials', '--json']);
    const creds = jsonDocument('credentials', result.stdout);
    expect(creds.credentials.airflow.password).toBe(password);
    expect(creds.file).toContain(name);
  });

  it('dags sync publishes the project dags/ folder', async () => {
    mkdirSync(path.join(world.project, 'dags'));
    writeFileSync(path.join(world.project, 'dags', 'hello.py'), 'from airflow.sdk import dag\n');
    const result = await run(['dags', 'sync', '--verbose']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/1 files published/);
    // Airflow's pods here are kwok's, which serve no API: the parse is not checked, and it says why.
    expect(result.stdout).toMatch(/Airflow's parse was not checked: \S/);
    expect(
      kubectlWorld(['get', 'configmap', 'airflow-dags', '-n', 'airflow', '-o', 'jsonpath={.data.dags\\.json}']),
    ).toContain('hello.py');
    expect((await run(['dags', 'sync'])).stdout).toMatch(/unchanged/);
  });

  it('users kubeconfig writes a working kubeconfig for a persona', async () => {
    const file = path.join(world.dir, 'view.kubeconfig');
    const result = await run(['users', 'kubeconfig', 'view', '--method', 'token', '--output', file, '--verbose']);
    expect(result.code, result.stderr).toBe(0);
    const pods = execFileSync('kubectl', ['--kubeconfig', file, 'auth', 'can-i', 'list', 'pods', '-n', 'spark-jobs'], {
      encoding: 'utf8',
    }).trim();
    expect(pods).toBe('yes');
  });

  it('no credential in any output, --verbose line, helm argument list, or process argument list', async () => {
    const creds = jsonDocument('credentials', (await koala(world, ['credentials', '--json'])).stdout);
    const stored = JSON.parse(
      readFileSync(path.join(world.env.KOALA_HOME!, 'clusters', name, 'credentials.json'), 'utf8'),
    ) as { credentials: Record<string, Record<string, string>> };
    const secrets = [
      creds.credentials.airflow.password,
      creds.credentials.objectStore.secretKey,
      stored.credentials.postgres!.password!,
      stored.credentials.airflow!.fernetKey!,
      stored.credentials.airflow!.jwtSecret!,
    ];
    expect(outputs.join('\n')).toMatch(/\$ .*helm.* upgrade --install/); // --verbose did show the commands
    const haystacks = {
      'koala output': outputs.join('\n'),
      'helm argv': recorder
        .calls()
        .map((c) => c.args.join(' '))
        .join('\n'),
      'process args': [...commandLines].join('\n'),
    };
    expect(commandLines.size).toBeGreaterThan(20);
    for (const secret of secrets)
      for (const [where, text] of Object.entries(haystacks))
        expect(text.includes(secret), `credential in ${where}`).toBe(false);
  });
});
