import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { helmInfo, kubeArgs, listArgs, upgradeArgs, withValuesFile } from '../../../src/tools/helm.ts';
import { parseVersion } from '../../../src/tools/version.ts';

const options = {
  release: 'airflow',
  namespace: 'airflow',
  chart: '/cache/airflow-1.22.0.tgz',
  valuesFile: '/tmp/v/values.json',
  timeoutSeconds: 600,
};

describe('helm: flags follow the version', () => {
  it('Helm 3: --wait --atomic; Helm 4: --wait=watcher --rollback-on-failure (--atomic is deprecated there)', () => {
    const v3 = upgradeArgs(helmInfo(parseVersion('v3.22.0')), options);
    const v4 = upgradeArgs(helmInfo(parseVersion('v4.3.1')), options);
    expect(v3).toEqual([
      'upgrade',
      '--install',
      'airflow',
      '/cache/airflow-1.22.0.tgz',
      '--namespace',
      'airflow',
      '--values',
      '/tmp/v/values.json',
      '--wait',
      '--atomic',
      '--timeout',
      '600s',
      '--history-max',
      '5',
    ]);
    expect(v4).toContain('--rollback-on-failure');
    expect(v4).toContain('--wait=watcher');
    expect(v4).not.toContain('--atomic');
    expect([...v3, ...v4].some((a) => a.startsWith('--set'))).toBe(false);
  });

  it('lists every status: Helm 3 needs --all, Helm 4 has no such flag', () => {
    expect(listArgs(helmInfo(parseVersion('v3.22.0')), 'a.b', 'ns')).toEqual([
      'list',
      '--namespace',
      'ns',
      '--filter',
      '^a\\.b$',
      '--all',
      '--output',
      'json',
    ]);
    expect(listArgs(helmInfo(parseVersion('v4.3.1')), 'x', 'ns')).not.toContain('--all');
  });

  it('refuses Helm 2, too old a Helm 3, and an unreadable version, with a hint', () => {
    expect(() => helmInfo(parseVersion('v2.17.0'))).toThrow(/not supported/);
    expect(() => helmInfo(parseVersion('v3.18.4'))).toThrow(/too old/);
    expect(() => helmInfo(undefined)).toThrow(/Could not read/);
    expect(helmInfo(parseVersion('v3.19.0')).major).toBe(3);
  });

  it('names the cluster explicitly, from the context', () => {
    expect(kubeArgs({ kubeconfig: '/k', context: 'kind-koala' })).toEqual([
      '--kubeconfig',
      '/k',
      '--kube-context',
      'kind-koala',
    ]);
    expect(kubeArgs({ context: 'kind-koala' })).toEqual(['--kube-context', 'kind-koala']);
  });

  it('values go through a 0600 file that is gone afterwards', async () => {
    let seen = '';
    await withValuesFile({ password: 's3cret-value' }, async (file) => {
      seen = file;
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(file.replace(/\/[^/]+$/, '')).mode & 0o777).toBe(0o700);
    });
    expect(() => statSync(seen)).toThrow();
  });
});
