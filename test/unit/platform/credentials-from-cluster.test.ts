import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { platformCredentials } from '../../../src/components/foundation/index.ts';
import { platformSecrets } from '../../../src/components/foundation/secrets.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { credentialsFile, resolveCredentials } from '../../../src/orchestration/credentials.ts';
import { existingClusterContext } from '../../../src/orchestration/contexts.ts';
import { clearSecrets } from '../../../src/tools/redact.ts';
import { KoalaError } from '../../../src/util/errors.ts';

/**
 * A helm whose `get values` answers from a script of responses, one per call (the last one
 * repeats): how a transient failure (API server restarting, a timeout) looks to koala.
 */
function scriptedHelm(
  dir: string,
  responses: Array<{ exit: number; stdout?: string; stderr?: string }>,
): { bin: string; calls: () => number } {
  const state = path.join(dir, 'helm-state');
  writeFileSync(path.join(dir, 'responses.json'), JSON.stringify(responses));
  writeFileSync(state, '0');
  const bin = path.join(dir, 'helm');
  writeFileSync(
    bin,
    `#!${process.execPath}
const fs = require('node:fs');
if (process.argv[2] !== 'get' || process.argv[3] !== 'values') {
  console.error('unexpected helm call: ' + process.argv.slice(2).join(' '));
  process.exit(64);
}
const n = Number(fs.readFileSync(${JSON.stringify(state)}, 'utf8'));
fs.writeFileSync(${JSON.stringify(state)}, String(n + 1));
const all = JSON.parse(fs.readFileSync(${JSON.stringify(path.join(dir, 'responses.json'))}, 'utf8'));
const r = all[Math.min(n, all.length - 1)];
process.stdout.write(r.stdout ?? '');
process.stderr.write(r.stderr ?? '');
process.exit(r.exit);
`,
  );
  chmodSync(bin, 0o755);
  return { bin, calls: () => Number(readFileSync(state, 'utf8')) };
}

const saved = { helm: process.env.KOALA_HELM, home: process.env.KOALA_HOME };
beforeAll(() => {
  process.env.KOALA_HOME = mkdtempSync(path.join(os.tmpdir(), 'koala-home-'));
});
afterAll(() => {
  process.env.KOALA_HELM = saved.helm;
  process.env.KOALA_HOME = saved.home;
});
afterEach(() => clearSecrets());

async function world(
  responses: Parameters<typeof scriptedHelm>[1] | ((values: string) => Parameters<typeof scriptedHelm>[1]),
) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-creds-'));
  writeFileSync(path.join(dir, '.git'), '');
  const loaded = await loadConfig({
    cwd: dir,
    processEnv: {
      KOALA_CLUSTER_NAME: path
        .basename(dir)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, ''),
    },
  });
  const existing = (await resolveCredentials(new Map(), undefined)).credentials;
  const values = JSON.stringify({ secrets: platformSecrets(loaded.config, existing) });
  const helm = scriptedHelm(dir, typeof responses === 'function' ? responses(values) : responses);
  process.env.KOALA_HELM = helm.bin;
  return { loaded, existing, helm };
}

const UNREACHABLE =
  'Error: Kubernetes cluster unreachable: Get "https://127.0.0.1:6443/version": ' +
  'dial tcp 127.0.0.1:6443: connect: connection refused\n';

describe('credentials when the local file is gone', () => {
  // Any helm failure other than "not found" stops; here the API server is unreachable.
  it("an unreachable cluster stops with a clear error; the next run reads the cluster's credentials", async () => {
    const { loaded, existing, helm } = await world((values) => [
      { exit: 1, stderr: UNREACHABLE },
      { exit: 0, stdout: values },
    ]);
    const first = existingClusterContext(loaded);
    const failure = await platformCredentials(first).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(KoalaError);
    expect((failure as KoalaError).message).toMatch(
      /Could not read the credentials the cluster already holds \(helm release koala-system\/koala-platform\)/,
    );
    expect((failure as KoalaError).message).toContain('Kubernetes cluster unreachable');
    expect((failure as KoalaError).hint).toMatch(
      /Nothing was changed\. Check that cluster .* answers \(`koala status`\), then run the command again/,
    );
    expect(existsSync(credentialsFile(first)), 'no credentials file written').toBe(false);

    // The failure is not cached: asked again (the same command retrying, or the next run), the cluster answers.
    const { credentials, sources } = await platformCredentials(first);
    expect(credentials).toEqual(existing);
    expect(new Set(Object.values(sources))).toEqual(new Set(['cluster']));
    expect(helm.calls()).toBe(2);
  });

  it.each([
    ['a timeout', 'Error: context deadline exceeded\n'],
    [
      'RBAC',
      'Error: query: failed to query with labels: secrets is forbidden: User "x" cannot list resource "secrets"\n',
    ],
  ])('%s is not "no credentials" either', async (_, stderr) => {
    const { loaded } = await world([{ exit: 1, stderr }]);
    await expect(platformCredentials(existingClusterContext(loaded))).rejects.toThrow(
      /Could not read the credentials the cluster already holds/,
    );
  });

  it('"release: not found" (a platform not installed yet) gives new credentials', async () => {
    const { loaded, existing } = await world([{ exit: 1, stderr: 'Error: release: not found\n' }]);
    const { credentials, sources } = await platformCredentials(existingClusterContext(loaded));
    expect(new Set(Object.values(sources))).toEqual(new Set(['generated']));
    expect(credentials.airflow.password).not.toBe(existing.airflow.password);
  });
});
