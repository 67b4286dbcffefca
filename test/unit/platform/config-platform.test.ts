import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import { ConfigError } from '../../../src/util/errors.ts';

function project(yaml: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-config-'));
  writeFileSync(path.join(dir, '.git'), '');
  writeFileSync(path.join(dir, 'koala.yaml'), yaml);
  return dir;
}

async function problems(yaml: string, env: Record<string, string> = {}): Promise<string> {
  const cwd = project(yaml);
  try {
    await loadConfig({ cwd, processEnv: env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(2);
    return (error as ConfigError).message.replaceAll(cwd + path.sep, '');
  }
  throw new Error('expected a ConfigError');
}

describe('config: platform fields', () => {
  it('has defaults for the platform namespaces and network policies', async () => {
    const { config } = await loadConfig({ cwd: project(''), processEnv: {} });
    expect(config.namespaces).toEqual({
      system: 'koala-system',
      sparkOperator: 'spark-operator',
      objectStore: 'object-store',
      airflow: 'airflow',
      gateway: 'gateway',
    });
    expect(config.networkPolicies).toEqual({ enabled: true, jobEgressCidrs: [] });
    expect(config.objectStore).toEqual({
      type: 'minio',
      buckets: ['spark-data'],
      endpoint: undefined,
      region: 'us-east-1',
      pathStyle: true,
      egressCidrs: [],
    });
  });

  it('accepts overrides', async () => {
    const { config } = await loadConfig({
      cwd: project(
        [
          'namespaces:',
          '  airflow: airflow-operator',
          'objectStore:',
          '  type: seaweedfs',
          'networkPolicies:',
          '  jobEgressCidrs: [0.0.0.0/0]',
          '',
        ].join('\n'),
      ),
      processEnv: {},
    });
    expect(config.namespaces.airflow).toBe('airflow-operator');
    expect(config.namespaces.system).toBe('koala-system');
    expect(config.objectStore.type).toBe('seaweedfs');
    expect(config.networkPolicies.jobEgressCidrs).toEqual(['0.0.0.0/0']);
  });

  it('rejects a namespace that is not a DNS label, naming file, line and field', async () => {
    const message = await problems('namespaces:\n  airflow: Airflow_NS\n');
    expect(message).toContain('koala.yaml:2: namespaces.airflow: "Airflow_NS" is not valid');
    expect(message).toContain('lowercase letters');
  });

  it('rejects an unknown object store type with the accepted values', async () => {
    const message = await problems('objectStore:\n  type: s3\n');
    expect(message).toContain('objectStore.type');
    expect(message).toContain('minio, seaweedfs');
  });

  it('rejects a bad bucket name', async () => {
    expect(await problems('objectStore:\n  buckets: [Bad_Bucket]\n')).toContain('objectStore.buckets.0');
  });

  it('rejects a bad CIDR and a non-boolean switch', async () => {
    const message = await problems('networkPolicies:\n  enabled: maybe\n  jobEgressCidrs: [everywhere]\n');
    expect(message).toContain('networkPolicies.enabled: expected true or false');
    expect(message).toContain('networkPolicies.jobEgressCidrs.0');
    expect(message).toContain('IPv4 CIDR');
  });

  it('rejects system namespaces and namespaces shared by two platform parts', async () => {
    expect(await problems('namespaces:\n  airflow: kube-system\n')).toContain(
      'namespaces.airflow: "kube-system" is a system namespace',
    );
    expect(await problems('spark:\n  jobNamespaces: [default]\n')).toContain(
      'spark.jobNamespaces: "default" is a system namespace',
    );
    const shared = await problems('namespaces:\n  objectStore: airflow\n');
    expect(shared).toMatch(
      /namespaces\.(objectStore|airflow): "airflow" is also used by namespaces\.(objectStore|airflow)/,
    );
    expect(await problems('spark:\n  jobNamespaces: [airflow]\n')).toContain(
      '"airflow" is also used by namespaces.airflow',
    );
  });

  it('reads the object store type and job namespaces from KOALA_* variables', async () => {
    const { config } = await loadConfig({
      cwd: project(''),
      processEnv: { KOALA_OBJECT_STORE: 'seaweedfs', KOALA_JOB_NAMESPACES: 'etl,ml' },
    });
    expect(config.objectStore.type).toBe('seaweedfs');
    expect(config.spark.jobNamespaces).toEqual(['etl', 'ml']);
    expect(await problems('', { KOALA_OBJECT_STORE: 'ceph' })).toContain('environment variable KOALA_OBJECT_STORE');
  });
});
