import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { EnvValue } from '../../../src/config/env.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { readCredentialsFile, resolveCredentials, storeCredentials } from '../../../src/orchestration/credentials.ts';
import { clearSecrets, redact, REDACTED } from '../../../src/tools/redact.ts';
import { ConfigError } from '../../../src/util/errors.ts';

const env = (vars: Record<string, string>, source = '/p/.env.private'): Map<string, EnvValue> =>
  new Map(Object.entries(vars).map(([k, v], i) => [k, { value: v, source, line: i + 1 }]));

afterEach(() => clearSecrets());

describe('credentials', () => {
  it('are random per cluster: strong, distinct, and registered for redaction', async () => {
    const a = (await resolveCredentials(new Map(), undefined)).credentials;
    const b = (await resolveCredentials(new Map(), undefined)).credentials;
    expect(a.objectStore.secretKey).not.toBe(b.objectStore.secretKey);
    expect(a.objectStore.accessKey).toMatch(/^[A-Z0-9]{20}$/);
    expect(a.objectStore.secretKey).toHaveLength(40);
    expect(a.airflow.password).toHaveLength(24);
    expect(Buffer.from(a.airflow.fernetKey.replaceAll('-', '+').replaceAll('_', '/'), 'base64')).toHaveLength(32);
    expect(a.airflow.username).toBe('admin');
    expect(redact(`x ${a.airflow.password} y ${a.postgres.password}`)).toBe(`x ${REDACTED} y ${REDACTED}`);
    // A user name is not a secret: masking it would garble every line that names it.
    expect(redact(`user ${a.airflow.username}`)).toBe('user admin');
  });

  it('come from .env.private (MINIO_ACCESS_KEY, AIRFLOW_PASSWORD, …) when the user sets them', async () => {
    const { credentials, sources } = await resolveCredentials(
      env({
        MINIO_ACCESS_KEY: 'platform-team',
        MINIO_SECRET_KEY: 'a-long-and-private-key',
        AIRFLOW_USERNAME: 'ana',
        AIRFLOW_PASSWORD: 'correct horse battery',
      }),
      undefined,
    );
    expect(credentials.objectStore).toEqual({ accessKey: 'platform-team', secretKey: 'a-long-and-private-key' });
    expect(credentials.airflow.username).toBe('ana');
    expect(sources['objectStore.secretKey']).toBe('/p/.env.private');
    expect(sources['postgres.password']).toBe('generated');
  });

  // Each refusal names the file, line and variable.
  it('refuse placeholders, well-known defaults, short values and secrets in .env', async () => {
    const problems = async (vars: Record<string, string>, source?: string): Promise<string> => {
      try {
        await resolveCredentials(env(vars, source), undefined);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        expect((error as ConfigError).exitCode).toBe(2);
        return (error as Error).message;
      }
      throw new Error('expected a ConfigError');
    };
    expect(await problems({ MINIO_SECRET_KEY: 'MY_MINIO_SECRET_KEY' })).toContain(
      '/p/.env.private:1: MINIO_SECRET_KEY: is a placeholder',
    );
    expect(await problems({ AIRFLOW_PASSWORD: 'admin' })).toContain('well-known default');
    expect(await problems({ AIRFLOW_PASSWORD: 'short1' })).toContain('too short');
    expect(await problems({ AIRFLOW_USERNAME: 'a b' })).toContain('user name');
    expect(await problems({ AIRFLOW_PASSWORD: 'a-perfectly-fine-password' }, '/p/.env')).toContain('a secret in .env');
  });

  it('are kept: the 0600 file wins over the cluster, the cluster over new ones', async () => {
    const home = mkdtempSync(path.join(os.tmpdir(), 'koala-cred-'));
    const file = path.join(home, 'credentials.json');
    const first = (await resolveCredentials(new Map(), undefined)).credentials;
    expect(await storeCredentials(file, first)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await storeCredentials(file, first)).toBe(false); // unchanged: no write
    const again = await resolveCredentials(new Map(), await readCredentialsFile(file), async () => ({
      postgres: { password: 'from-the-cluster-1' },
    }));
    expect(again.credentials).toEqual(first);
    const recovered = await resolveCredentials(new Map(), undefined, async () => ({
      postgres: { password: 'from-the-cluster-1' },
    }));
    expect(recovered.credentials.postgres.password).toBe('from-the-cluster-1');
    expect(recovered.sources['postgres.password']).toBe('cluster');
  });

  it('a real .env.private read through the config loader works end to end', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-cred-'));
    writeFileSync(path.join(dir, '.git'), '');
    writeFileSync(path.join(dir, '.env.private'), 'AIRFLOW_PASSWORD=a-password-of-my-own\n');
    chmodSync(path.join(dir, '.env.private'), 0o600);
    const loaded = await loadConfig({ cwd: dir, processEnv: {} });
    expect((await resolveCredentials(loaded.env, undefined)).credentials.airflow.password).toBe('a-password-of-my-own');
  });
});
