import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { JsonDocuments } from '../../src/cli/results.ts';
import { jsonDocument, type JsonCommand } from '../support/json-documents.ts';

/**
 * What the built CLI prints with --json validates against the committed schema of its document
 * (json-results.test.ts keeps those equal to the types), for every command that needs no
 * cluster; the ones that need a cluster are checked the same way in test/process/. Tools are
 * pointed at missing files, except the kind stand-in for `status`, so nothing outside the temp
 * dir is touched or reached.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const RUN = path.join(ROOT, 'bin/run.js');
const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-json-'));
const project = path.join(dir, 'project');
const SUM = 'a'.repeat(64);

const env: NodeJS.ProcessEnv = {
  ...process.env,
  HOME: dir,
  KOALA_HOME: path.join(dir, 'koala-home'),
  KOALA_CACHE_DIR: path.join(dir, 'cache'),
  KUBECONFIG: path.join(dir, 'kubeconfig'),
  KOALA_FAKE_STATE: path.join(dir, 'fake-state'),
  KOALA_KIND: '/nonexistent/kind',
  KOALA_HELM: '/nonexistent/helm',
  KOALA_DOCKER: '/nonexistent/docker',
  KOALA_KUBECTL: '/nonexistent/kubectl',
  CI: 'true',
  FORCE_COLOR: '0',
};
delete env.KOALA_CONFIG;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function koala(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Result> {
  return new Promise((resolve) =>
    execFile(
      process.execPath,
      [RUN, ...args],
      { cwd: project, env: { ...env, ...extraEnv } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    ),
  );
}

/** Runs the command, checks its exit code and validates stdout against the command's schema. */
async function check<C extends JsonCommand>(
  command: C,
  args: string[],
  code: number,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<JsonDocuments[C]> {
  const result = await koala(args, extraEnv);
  expect(result.code, result.stderr).toBe(code);
  return jsonDocument(command, result.stdout);
}

beforeAll(() => {
  mkdirSync(project);
  mkdirSync(env.KOALA_FAKE_STATE!);
  writeFileSync(path.join(project, '.git'), ''); // the project root for koala.yaml lookup
});

// Each case starts the CLI up to three times; two busy cores make that a few seconds.
describe('--json output validates against its schema', { timeout: 60_000 }, () => {
  it('init, then new spark-app in the project it made', async () => {
    const init = await check('init', ['init', '--json'], 0);
    expect(init.files.map((f) => f.action)).toContain('created');
    const app = await check('new spark-app', ['new', 'spark-app', 'demo', '--json'], 0);
    expect(app.files).toContain('spark-app.yaml');
  });

  it('up --dry-run', async () => {
    const plan = await check('up', ['up', '--dry-run', '--json'], 0);
    expect('dryRun' in plan && plan.steps.length).toBeGreaterThan(0);
  });

  it('doctor, with every tool missing (exit 1)', async () => {
    const doctor = await check('doctor', ['doctor', '--json'], 1);
    expect(doctor.ok).toBe(false);
  });

  it('status with no cluster (exit 1)', async () => {
    const kind = path.join(ROOT, 'test/fakes/bin/kind');
    const status = await check('status', ['status', '--json'], 1, { KOALA_KIND: kind });
    expect(status.cluster.exists).toBe(false);
  });

  it('run -f --dry-run', async () => {
    const manifest = path.join(project, 'pi.yaml');
    writeFileSync(
      manifest,
      [
        'apiVersion: sparkoperator.k8s.io/v1beta2',
        'kind: SparkApplication',
        'metadata: { name: pi }',
        'spec:',
        '  type: Python',
        '  mode: cluster',
        '  image: spark:4.0.1',
        '  mainApplicationFile: local:///opt/spark/examples/src/main/python/pi.py',
        '  sparkVersion: 4.0.1',
        '  driver: { cores: 1, memory: 512m }',
        '  executor: { instances: 1, cores: 1, memory: 512m }',
      ].join('\n'),
    );
    const run = await check('run', ['run', '-f', manifest, '--dry-run', '--json'], 0);
    expect('dryRun' in run && run.manifests).toHaveLength(1);
  });

  it('tools install, with the verified file already in place (nothing is fetched)', async () => {
    const bin = path.join(dir, 'tools');
    mkdirSync(bin);
    writeFileSync(path.join(bin, 'kind'), '#!/bin/sh\n');
    writeFileSync(path.join(bin, 'kind.sha256'), `${SUM}\n`);
    const config = path.join(dir, 'tools.koala.yaml');
    writeFileSync(config, `tools:\n  mirror: http://127.0.0.1:9\n  sha256:\n    kind: ${SUM}\n`);
    const tools = await check('tools install', ['tools', 'install', 'kind', '--dir', bin, '--json'], 0, {
      KOALA_CONFIG: config,
    });
    expect(tools.tools).toMatchObject([{ tool: 'kind', fetched: false }]);
  });

  it('a key or a value the type does not allow fails the check', () => {
    const sync = (doc: object) => () => jsonDocument('dags sync', JSON.stringify(doc));
    expect(sync({ ok: true, detail: 'synced', extra: 1 })).toThrow(/must NOT have additional properties/);
    expect(sync({ ok: 'yes', detail: 'synced', apps: [] })).toThrow(/must be boolean/);
    const credentials = (doc: object) => () => jsonDocument('credentials', JSON.stringify(doc));
    expect(credentials({ ok: false, file: 'f', source: 'file', credentials: {}, gateway: [] })).toThrow(
      /must be equal to constant/,
    );
  });

  it('the error document: a usage error (exit 2) and a failure (exit 1)', async () => {
    const usage = await check('error', ['up', '--json', '--workers', 'abc'], 2);
    expect(usage.error.hint).toMatch(/--help/);
    await check('error', ['tools', 'install', 'nope', '--json'], 2);
    await check('error', ['status', '--json'], 1);
  });
});
