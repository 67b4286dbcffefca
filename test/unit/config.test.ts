import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.ts';
import { ConfigError } from '../../src/util/errors.ts';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-config-'));
  // A .git marker stops the upward search for koala.yaml at the project.
  writeFileSync(path.join(dir, '.git'), '');
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
  return dir;
}

async function problemsOf(
  files: Record<string, string>,
  env: Record<string, string> = {},
  flags: Array<{ path: string; value: unknown; flag: string }> = [],
): Promise<string> {
  const cwd = project(files);
  try {
    await loadConfig({ cwd, processEnv: env, flags });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).exitCode).toBe(2);
    return (error as ConfigError).message.replaceAll(cwd + path.sep, '');
  }
  throw new Error('expected a ConfigError');
}

describe('config: defaults and layers', () => {
  it('works with no koala.yaml: the HA layout of 3 control planes and 3 workers', async () => {
    const { config } = await loadConfig({ cwd: project({}), processEnv: {} });
    expect(config.cluster).toMatchObject({
      name: 'koala',
      controlPlanes: 3,
      workers: 3,
      kubernetesVersionPinned: false,
    });
    expect(config.registry).toMatchObject({ enabled: true, port: 5001 });
    expect(config.configFile).toBeUndefined();
  });

  it('merges defaults < koala.yaml < .env < .env.private < environment < flags', async () => {
    const cwd = project({
      'koala.yaml': 'cluster:\n  name: from-yaml\n  workers: 1\n  controlPlanes: 1\nregistry:\n  port: 5100\n',
      '.env': 'KOALA_WORKERS=2\nKOALA_REGISTRY_PORT=5200\n',
      '.env.private': 'KOALA_REGISTRY_PORT=5300\n',
    });
    chmodSync(path.join(cwd, '.env.private'), 0o600);
    const { config, warnings } = await loadConfig({
      cwd,
      processEnv: { KOALA_CLUSTER_NAME: 'from-env' },
      flags: [
        { path: 'cluster.name', value: 'from-flag', flag: 'name' },
        { path: 'cluster.workers', value: undefined, flag: 'workers' },
      ],
    });
    expect(config.cluster.name).toBe('from-flag');
    expect(config.cluster.workers).toBe(2); // .env beats koala.yaml
    expect(config.cluster.controlPlanes).toBe(1); // koala.yaml beats defaults
    expect(config.registry.port).toBe(5300); // .env.private beats .env
    expect(warnings).toEqual([]);
  });

  it('normalises the Kubernetes version and records that the user chose it', async () => {
    const { config } = await loadConfig({
      cwd: project({ 'koala.yaml': 'cluster:\n  kubernetesVersion: v1.35.8\n' }),
      processEnv: {},
    });
    expect(config.cluster.kubernetesVersion).toBe('v1.35.8');
    expect(config.cluster.kubernetesVersionPinned).toBe(true);
  });

  it('warns when .env.private is readable by others', async () => {
    const cwd = project({ '.env.private': 'X=1\n' });
    chmodSync(path.join(cwd, '.env.private'), 0o644);
    const { warnings } = await loadConfig({ cwd, processEnv: {} });
    expect(warnings[0]).toMatch(/\.env\.private is readable by other users .*chmod 600/);
  });

  it('finds koala.yaml in a parent directory, up to the git root', async () => {
    const cwd = project({ 'koala.yaml': 'cluster:\n  name: parent\n' });
    const sub = path.join(cwd, 'spark-applications');
    (await import('node:fs')).mkdirSync(sub);
    const { config } = await loadConfig({ cwd: sub, processEnv: {} });
    expect(config.cluster.name).toBe('parent');
    expect(config.projectDir).toBe(cwd);
  });
});

/** Each bad input and the exact words the user must see: file, line, field, accepted values. */
const BAD_YAML: Array<[string, string, RegExp | string]> = [
  [
    'workers out of range',
    'cluster:\n  workers: 42\n',
    /koala\.yaml:2: cluster\.workers: 42 is out of range \(accepted: a whole number from 0 to 10\)/,
  ],
  [
    'workers not a number',
    'cluster:\n  workers: three\n',
    /koala\.yaml:2: cluster\.workers: expected a whole number, got "three"/,
  ],
  [
    'even control planes',
    'cluster:\n  controlPlanes: 2\n',
    'koala.yaml:2: cluster.controlPlanes: 2 is not allowed ' +
      '(accepted: 1, 3 or 5 (an odd number, so etcd keeps a majority))',
  ],
  ['fractional workers', 'cluster:\n  workers: 1.5\n', /cluster\.workers: expected a whole number, got 1\.5/],
  [
    'cluster name with capitals',
    'cluster:\n  name: MyCluster\n',
    'koala.yaml:2: cluster.name: "MyCluster" is not valid (accepted: a kind cluster name: ' +
      'lowercase letters, digits, "-" and ".", each part starting and ending with a letter or digit, ' +
      'at most 40 characters)',
  ],
  ['cluster name too long', `cluster:\n  name: ${'a'.repeat(41)}\n`, /cluster\.name: "a{41}" is not valid/],
  [
    'cluster name with "_" (kind refuses it)',
    'cluster:\n  name: my_cluster\n',
    /cluster\.name: "my_cluster" is not valid/,
  ],
  ['cluster name starting with "-"', 'cluster:\n  name: -dev\n', /cluster\.name: "-dev" is not valid/],
  ['cluster name with an empty part', 'cluster:\n  name: team..dev\n', /cluster\.name: "team\.\.dev" is not valid/],
  [
    'unknown Kubernetes version',
    'cluster:\n  kubernetesVersion: v1.20.2\n',
    'koala.yaml:2: cluster.kubernetesVersion: "v1.20.2" is not one of the accepted values ' +
      '(accepted: v1.37.0, v1.36.4, v1.35.8, v1.34.11)',
  ],
  [
    'node image with neither tag nor digest',
    'cluster:\n  nodeImage: kindest/node\n',
    'cluster.nodeImage: "kindest/node" is not valid (accepted: an image pinned by digest, ' +
      'like kindest/node:v1.35.8@sha256:<64 hex digits>, or a local image by name:tag)',
  ],
  [
    'node image with a space',
    'cluster:\n  nodeImage: "kindest/node:v1.35.8 x"\n',
    /cluster\.nodeImage: "kindest\/node:v1\.35\.8 x" is not valid/,
  ],
  [
    'typo in a section',
    'clustr:\n  workers: 1\n',
    /koala\.yaml:1: clustr: unknown field \(did you mean "cluster"\?\) \(accepted: cluster, registry, ports, charts/,
  ],
  [
    'typo in a field',
    'cluster:\n  worker: 1\n',
    /koala\.yaml:2: cluster\.worker: unknown field \(did you mean "workers"\?\)/,
  ],
  [
    'registry port too low',
    'registry:\n  port: 80\n',
    /koala\.yaml:2: registry\.port: 80 is out of range \(accepted: a whole number from 1024 to 65535\)/,
  ],
  [
    'registry enabled not boolean',
    'registry:\n  enabled: maybe\n',
    /registry\.enabled: expected true or false, got "maybe"/,
  ],
  [
    'bad chart mirror',
    'charts:\n  mirror: ftp://example.com\n',
    'koala.yaml:2: charts.mirror: "ftp://example.com" is not valid ' +
      '(accepted: an http(s):// chart repository URL or an oci:// registry)',
  ],
  [
    'unknown object store',
    'objectStore:\n  type: s3\n',
    /koala\.yaml:2: objectStore\.type: "s3" is not one of the accepted values \(accepted: minio, seaweedfs, external\)/,
  ],
  [
    'bad bucket name',
    'objectStore:\n  buckets: [Data_Lake]\n',
    /koala\.yaml:2: objectStore\.buckets\.0: "Data_Lake" is not valid \(accepted: an S3 bucket name/,
  ],
  [
    'job namespaces empty',
    'spark:\n  jobNamespaces: []\n',
    /koala\.yaml:2: spark\.jobNamespaces: needs at least 1 item/,
  ],
  [
    'job namespace invalid',
    'spark:\n  jobNamespaces: [Spark_Jobs]\n',
    /spark\.jobNamespaces\.0: "Spark_Jobs" is not valid/,
  ],
  [
    'unknown component',
    'components:\n  kafka:\n    enabled: true\n',
    /koala\.yaml:2: components\.kafka: unknown field \(accepted: spark-operator, object-store, airflow, gateway, rbac/,
  ],
  [
    'component version not semver',
    'components:\n  airflow:\n    version: latest\n',
    /koala\.yaml:3: components\.airflow\.version: "latest" is not valid \(accepted: a chart version like 1\.2\.3\)/,
  ],
  [
    'component values not a mapping',
    'components:\n  airflow:\n    values: [1, 2]\n',
    /components\.airflow\.values: expected a mapping, got a list/,
  ],
  [
    'timeout too short',
    'timeouts:\n  nodesReadySeconds: 1\n',
    /koala\.yaml:2: timeouts\.nodesReadySeconds: 1 is out of range \(accepted: a whole number from 10 to 7200\)/,
  ],
  [
    'section is a list',
    'cluster:\n  - workers: 1\n',
    'koala.yaml:1: cluster: expected a mapping, got a list (accepted: a mapping with keys name, controlPlanes, workers',
  ],
  ['top level is a list', '- a\n- b\n', /koala\.yaml:1: \(top level\): expected a mapping of settings/],
  [
    'syntax error',
    'cluster:\n  workers: 1\n    name: x\n',
    /koala\.yaml:2: \(syntax\): Nested mappings are not allowed .*\(accepted: valid YAML\)/,
  ],
  ['duplicate key', 'cluster:\n  workers: 1\n  workers: 2\n', /koala\.yaml:3: \(syntax\): Map keys must be unique/],
  [
    'two services on one port',
    'registry:\n  port: 9000\n',
    // Either field may be named first.
    new RegExp(
      [
        String.raw`koala\.yaml:2: registry\.port: port 9000 is also used by ports\.objectStore`,
        String.raw`ports\.objectStore: port 9000 is also used by registry\.port`,
      ].join('|'),
    ),
  ],
  [
    'host port out of range',
    'ports:\n  airflow: 70000\n',
    /koala\.yaml:2: ports\.airflow: 70000 is out of range \(accepted: a whole number from 0 to 65535\)/,
  ],
  [
    'external object store without its endpoint',
    'objectStore:\n  type: external\n',
    /koala\.yaml:2: objectStore\.endpoint: is required when objectStore\.type is external \(accepted: the S3 endpoint/,
  ],
  [
    'an endpoint for an installed object store',
    'objectStore:\n  type: minio\n  endpoint: http://10.0.0.5:9000\n',
    /koala\.yaml:3: objectStore\.endpoint: is only for objectStore\.type external, and the type is minio/,
  ],
  [
    'egress addresses for an installed object store',
    'objectStore:\n  egressCidrs: [10.0.0.0/8]\n',
    /koala\.yaml:2: objectStore\.egressCidrs: is only for objectStore\.type external, and the type is minio/,
  ],
  [
    'an external endpoint with a path or credentials',
    'objectStore:\n  type: external\n  endpoint: http://key:secret@s3.example.com/bucket\n',
    /koala\.yaml:3: objectStore\.endpoint: .*\(accepted: .*http\(s\):\/\/host\[:port\], no path and no credentials\)/,
  ],
  [
    'an external endpoint without a scheme',
    'objectStore:\n  type: external\n  endpoint: s3.example.com\n',
    /koala\.yaml:3: objectStore\.endpoint: /,
  ],
  [
    'a bad egress CIDR',
    'objectStore:\n  type: external\n  endpoint: https://s3.example.com\n  egressCidrs: [s3.example.com]\n',
    /koala\.yaml:4: objectStore\.egressCidrs\.0: .*accepted: an IPv4 CIDR/,
  ],
  [
    'duplicate job namespace',
    'spark:\n  jobNamespaces: [a, a]\n',
    /koala\.yaml:2: spark\.jobNamespaces: "a" is listed twice/,
  ],
];

describe('config: bad koala.yaml', () => {
  it.each(BAD_YAML)('%s', async (_name, yaml, expected) => {
    expect(await problemsOf({ 'koala.yaml': yaml })).toMatch(expected);
  });

  it('reports every problem at once, not just the first', async () => {
    const message = await problemsOf({ 'koala.yaml': 'cluster:\n  workers: -1\n  controlPlanes: 4\n' });
    expect(message).toMatch(/Invalid configuration \(2 problems\)/);
    expect(message).toMatch(/:2: cluster\.workers/);
    expect(message).toMatch(/:3: cluster\.controlPlanes/);
  });
});

describe('config: bad environment and flags', () => {
  it('names the environment variable', async () => {
    expect(await problemsOf({}, { KOALA_WORKERS: 'lots' })).toMatch(
      /environment variable KOALA_WORKERS: cluster\.workers: expected a whole number, got "lots"/,
    );
  });

  it('names the .env file, line and variable', async () => {
    expect(await problemsOf({ '.env': '# ports\nKOALA_REGISTRY_PORT=99999\n' })).toMatch(
      /\.env \(KOALA_REGISTRY_PORT\):2: registry\.port: 99999 is out of range/,
    );
  });

  it('names the flag', async () => {
    expect(await problemsOf({}, {}, [{ path: 'cluster.controlPlanes', value: 2, flag: 'control-planes' }])).toMatch(
      /flag --control-planes: cluster\.controlPlanes: 2 is not allowed/,
    );
  });

  it('rejects a --config file that does not exist', async () => {
    const cwd = project({});
    await expect(loadConfig({ cwd, processEnv: {}, configFile: 'nope.yaml' })).rejects.toThrow(
      /flag --config: config: .*nope\.yaml does not exist/,
    );
  });

  it('takes an external S3 endpoint with its region, path style and egress addresses', async () => {
    const { config } = await loadConfig({
      cwd: project({
        'koala.yaml': [
          'objectStore:',
          '  type: external',
          '  endpoint: https://s3.example.com/',
          '  region: eu-west-1',
          '  pathStyle: false',
          '  egressCidrs: [203.0.113.0/24]',
        ].join('\n'),
      }),
      processEnv: {},
    });
    expect(config.objectStore).toEqual({
      type: 'external',
      buckets: ['spark-data'],
      endpoint: 'https://s3.example.com/',
      region: 'eu-west-1',
      pathStyle: false,
      egressCidrs: ['203.0.113.0/24'],
    });
  });

  it('rejects a bad KOALA_OBJECT_STORE', async () => {
    expect(await problemsOf({}, { KOALA_OBJECT_STORE: 'ceph' })).toMatch(
      /KOALA_OBJECT_STORE: objectStore\.type: "ceph" is not one of the accepted values \(accepted: minio, seaweedfs, e/,
    );
  });
});
