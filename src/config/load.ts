import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, type ConfigProblem } from '../util/errors.ts';
import { mirrorReference } from '../charts/images.ts';
import { findNodeImage } from '../cluster/node-images.ts';
import { loadEnv, type EnvValue } from './env.ts';
import { CONFIG_SPEC, defaultConfig, type KoalaConfig } from './schema.ts';
import { isPlainObject, validateValue, type FieldSpec } from './spec.ts';
import { parseLocatedYaml } from './yaml-file.ts';

export const CONFIG_FILE_NAME = 'koala.yaml';

export interface ConfigInputs {
  cwd: string;
  processEnv: NodeJS.ProcessEnv;
  /** --config */
  configFile?: string;
  /** Flag values by config path, e.g. { "cluster.workers": 1 }, each with its flag name. */
  flags?: Array<{ path: string; value: unknown; flag: string }>;
}

export interface LoadedConfig {
  config: KoalaConfig;
  /** The merged .env / .env.private / process environment, for secrets. */
  env: ReadonlyMap<string, EnvValue>;
  warnings: string[];
}

/** KOALA_* variables and the config fields they set. */
export const ENV_FIELDS: ReadonlyArray<{ name: string; path: string }> = [
  { name: 'KOALA_CLUSTER_NAME', path: 'cluster.name' },
  { name: 'KOALA_CONTEXT', path: 'cluster.context' },
  { name: 'KOALA_CONTROL_PLANES', path: 'cluster.controlPlanes' },
  { name: 'KOALA_WORKERS', path: 'cluster.workers' },
  { name: 'KOALA_KUBERNETES_VERSION', path: 'cluster.kubernetesVersion' },
  { name: 'KOALA_NODE_IMAGE', path: 'cluster.nodeImage' },
  { name: 'KOALA_REGISTRY', path: 'registry.enabled' },
  { name: 'KOALA_REGISTRY_PORT', path: 'registry.port' },
  { name: 'KOALA_REGISTRY_EXTERNAL', path: 'registry.external' },
  { name: 'KOALA_CHART_MIRROR', path: 'charts.mirror' },
  { name: 'KOALA_IMAGE_MIRROR', path: 'images.mirror' },
  { name: 'KOALA_TOOLS_MIRROR', path: 'tools.mirror' },
  { name: 'KOALA_OBJECT_STORE', path: 'objectStore.type' },
  { name: 'KOALA_JOB_NAMESPACES', path: 'spark.jobNamespaces' },
];

interface Layer {
  /** Partial config object. */
  value: Record<string, unknown>;
  /** Where a field at a path came from. */
  locate(path: readonly string[]): { source: string; line?: number };
}

/**
 * Merge defaults → koala.yaml → KOALA_* environment → flags, validating each layer against the
 * schema so every problem names its own source. Throws ConfigError (exit 2) before anything
 * has been touched.
 */
export async function loadConfig(inputs: ConfigInputs): Promise<LoadedConfig> {
  const problems: ConfigProblem[] = [];
  const explicitFile = inputs.configFile ?? inputs.processEnv.KOALA_CONFIG;
  const file = explicitFile ? path.resolve(inputs.cwd, explicitFile) : findConfigFile(inputs.cwd);
  const projectDir = file ? path.dirname(file) : inputs.cwd;
  const layers: Layer[] = [];

  if (explicitFile && !existsSync(file!)) {
    throw new ConfigError([
      {
        source: inputs.configFile ? 'flag --config' : 'environment variable KOALA_CONFIG',
        field: 'config',
        message: `${file} does not exist`,
        accepted: 'the path of a koala.yaml file',
      },
    ]);
  }
  if (file) {
    const parsed = await parseLocatedYaml(file, await readFile(file, 'utf8'));
    problems.push(...parsed.problems);
    if (parsed.yaml) {
      const { value, lineOf } = parsed.yaml;
      if (value !== null && !isPlainObject(value)) {
        problems.push({
          source: file,
          line: 1,
          field: '(top level)',
          message: 'expected a mapping of settings',
          accepted:
            'cluster, registry, ports, charts, images, tools, spark, namespaces, networkPolicies, objectStore, ' +
            'airflow, components, timeouts',
        });
      } else {
        layers.push({ value: value ?? {}, locate: (p) => withLine(file, lineOf(p)) });
      }
    }
  }

  const { env, warnings } = await loadEnv(projectDir, inputs.processEnv);
  const envLayer: Record<string, unknown> = {};
  const envSources = new Map<string, EnvValue & { name: string }>();
  for (const { name, path: fieldPath } of ENV_FIELDS) {
    const found = env.get(name);
    if (!found) continue;
    const spec = specAt(fieldPath);
    const coerced = coerce(found.value, spec);
    setPath(envLayer, fieldPath, coerced);
    envSources.set(fieldPath, { ...found, name });
  }
  layers.push({
    value: envLayer,
    locate: (p) => {
      const hit = envSources.get(p.slice(0, 2).join('.')) ?? envSources.get(p.slice(0, 1).join('.'));
      if (!hit) return { source: 'environment' };
      return hit.source.startsWith('environment')
        ? { source: hit.source }
        : { source: `${hit.source} (${hit.name})`, ...(hit.line ? { line: hit.line } : {}) };
    },
  });

  const flagLayer: Record<string, unknown> = {};
  for (const f of inputs.flags ?? []) if (f.value !== undefined) setPath(flagLayer, f.path, f.value);
  layers.push({
    value: flagLayer,
    locate: (p) => ({
      source: `flag --${inputs.flags?.find((f) => p.join('.').startsWith(f.path))?.flag ?? p.join('.')}`,
    }),
  });

  for (const layer of layers) {
    for (const problem of validateValue(layer.value, CONFIG_SPEC)) {
      problems.push({
        ...layer.locate(problem.path),
        field: problem.path.join('.'),
        message: problem.message,
        ...(problem.accepted ? { accepted: problem.accepted } : {}),
      });
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const merged = layers.reduce<Record<string, unknown>>(
    (acc, layer) => deepMerge(acc, layer.value),
    defaultConfig(projectDir) as unknown as Record<string, unknown>,
  );
  const config = merged as unknown as KoalaConfig;
  config.projectDir = projectDir;
  config.configFile = file;
  config.cluster.kubernetesVersion =
    findNodeImage(config.cluster.kubernetesVersion)?.version ?? config.cluster.kubernetesVersion;
  config.cluster.kubernetesVersionPinned = layers.some(
    (l) => isPlainObject(l.value.cluster) && 'kubernetesVersion' in l.value.cluster,
  );
  // The registry's image is a host container's, not a pin: the mirror reaches it unless it was set.
  if (!layers.some((l) => getPath(l.value, ['registry', 'image']) !== undefined)) {
    config.registry.image = mirrorReference(config.registry.image, config.images.mirror);
  }

  // Host ports are kind's port mappings onto NodePorts: a cluster koala did not create has none, and
  // its Services stay ClusterIP, reached with `koala port-forward`.
  if (config.cluster.context) {
    const mapped = Object.entries(config.ports).filter(([, port]) => port > 0);
    if (layers.some((l) => getPath(l.value, ['ports']) !== undefined) && mapped.length > 0)
      warnings.push("ports.* is for koala's kind cluster; on cluster.context services are reached with port-forward");
    for (const [key] of mapped) (config.ports as Record<string, number>)[key] = 0;
  }

  problems.push(...crossFieldProblems(config, layers));
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, env, warnings };
}

/** Rules that involve more than one field. */
function crossFieldProblems(config: KoalaConfig, layers: Layer[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const locate = (p: string[]): { source: string; line?: number } => {
    for (const layer of [...layers].reverse()) if (getPath(layer.value, p) !== undefined) return layer.locate(p);
    return { source: 'defaults' };
  };
  const ports: Array<[string[], number]> = [
    [['registry', 'port'], config.registry.enabled ? config.registry.port : 0],
    ...Object.entries(config.ports).map(([key, port]): [string[], number] => [['ports', key], port]),
  ];
  const seen = new Map<number, string>();
  for (const [p, port] of ports) {
    if (port === 0) continue;
    const other = seen.get(port);
    if (other)
      problems.push({
        ...locate(p),
        field: p.join('.'),
        message: `port ${port} is also used by ${other}`,
        accepted: 'a host port no other koala service uses',
      });
    seen.set(port, p.join('.'));
  }
  problems.push(...objectStoreProblems(config, locate));
  const namespaces = config.spark.jobNamespaces;
  const dupe = namespaces.find((ns, i) => namespaces.indexOf(ns) !== i);
  if (dupe)
    problems.push({
      ...locate(['spark', 'jobNamespaces']),
      field: 'spark.jobNamespaces',
      message: `"${dupe}" is listed twice`,
      accepted: 'distinct namespace names',
    });
  // Every platform namespace gets default-deny NetworkPolicies, so each must be koala's own.
  const platform: Array<[string[], string]> = [
    ...(Object.entries(config.namespaces).map(([k, ns]) => [['namespaces', k], ns]) as Array<[string[], string]>),
    ...namespaces.map((ns): [string[], string] => [['spark', 'jobNamespaces'], ns]),
  ];
  const owner = new Map<string, string>();
  for (const [p, ns] of platform) {
    const field = p.join('.');
    if (RESERVED_NAMESPACES.includes(ns))
      problems.push({
        ...locate(p),
        field,
        message: `"${ns}" is a system namespace`,
        accepted: `a namespace of koala's own (not ${RESERVED_NAMESPACES.join(', ')})`,
      });
    const other = owner.get(ns);
    if (other && other !== field)
      problems.push({
        ...locate(p),
        field,
        message: `"${ns}" is also used by ${other}`,
        accepted: 'a namespace no other platform part uses',
      });
    owner.set(ns, field);
  }
  return problems;
}

/** An external store needs its endpoint; an installed one has no use for the external fields. */
function objectStoreProblems(
  config: KoalaConfig,
  locate: (p: string[]) => { source: string; line?: number },
): ConfigProblem[] {
  const store = config.objectStore;
  if (store.type === 'external') {
    return store.endpoint
      ? []
      : [
          {
            ...locate(['objectStore', 'type']),
            field: 'objectStore.endpoint',
            message: 'is required when objectStore.type is external',
            accepted: 'the S3 endpoint as pods reach it, e.g. https://s3.example.com or http://10.0.0.5:9000',
          },
        ];
  }
  const externalOnly: Array<[string, boolean]> = [
    ['endpoint', store.endpoint !== undefined],
    ['egressCidrs', store.egressCidrs.length > 0],
  ];
  return externalOnly
    .filter(([, set]) => set)
    .map(([key]) => ({
      ...locate(['objectStore', key]),
      field: `objectStore.${key}`,
      message: `is only for objectStore.type external, and the type is ${store.type}`,
      accepted: `objectStore.type: external, or no objectStore.${key}`,
    }));
}

const RESERVED_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

function findConfigFile(cwd: string): string | undefined {
  // Look upward like git does, but stop at the repository root so a stray file above it is ignored.
  let dir = path.resolve(cwd);
  for (;;) {
    const candidate = path.join(dir, CONFIG_FILE_NAME);
    if (existsSync(candidate)) return candidate;
    if (existsSync(path.join(dir, '.git'))) return undefined;
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function withLine(source: string, line: number | undefined): { source: string; line?: number } {
  return line === undefined ? { source } : { source, line };
}

function specAt(dotted: string): FieldSpec {
  let spec: FieldSpec = CONFIG_SPEC;
  for (const key of dotted.split('.')) {
    if (spec.type !== 'object' || !spec.fields[key]) throw new Error(`config: no field ${dotted}`);
    spec = spec.fields[key];
  }
  return spec;
}

/** Environment variables are strings; turn them into the type the field wants (validation follows). */
function coerce(raw: string, spec: FieldSpec): unknown {
  const text = raw.trim();
  switch (spec.type) {
    case 'int':
      return /^-?\d+$/.test(text) ? Number(text) : text;
    case 'bool':
      return /^(true|1|yes|on)$/i.test(text) ? true : /^(false|0|no|off)$/i.test(text) ? false : text;
    case 'list':
      return text === '' ? [] : text.split(',').map((s) => s.trim());
    default:
      return text;
  }
}

export function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    if (!isPlainObject(node[key])) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys.at(-1)!] = value;
}

function getPath(source: unknown, keys: readonly string[]): unknown {
  let node = source;
  for (const key of keys) {
    if (!isPlainObject(node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Objects merge key by key; lists and scalars are replaced. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined) continue;
    out[key] = isPlainObject(value) && isPlainObject(base[key]) ? deepMerge(base[key], value) : value;
  }
  return out;
}
