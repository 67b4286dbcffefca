import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isPlainObject, validateValue, type FieldSpec } from '../config/spec.ts';
import { parseLocatedYaml } from '../config/yaml-file.ts';
import { ConfigError, type ConfigProblem } from '../util/errors.ts';
import type { PublishedSettings } from '../components/gateway/routes.ts';
import { CRON_ACCEPTED, cronProblem } from './cron.ts';

/**
 * A datatask `manifest.json`: one task (a Job, a CronJob, a Deployment, or a Deployment with
 * its Service) as the datatask platform documented it, field for field, with its defaults and
 * its mandatory fields. Empty strings mean "not set", as in the documented examples
 * (`"image-source": ""` beside an image-destination, `"schedule": ""` on a plain job).
 */
export const MANIFEST_FILE = 'manifest.json';

export type TaskKind = 'job' | 'cronjob' | 'deployment' | 'service';

/** `published` with its defaults: what the gateway is told (src/components/gateway/routes.ts). */
export type Published = PublishedSettings;

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly: boolean;
  source: { secret: string } | { configMap: string } | { persistentVolumeClaim: string } | { emptyDir: true };
}

export interface Toleration {
  key?: string;
  operator?: 'Equal' | 'Exists';
  value?: string;
  effect?: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
  tolerationSeconds?: number;
}

export interface Task {
  file: string;
  /** The folder of the manifest: the build context of an image-destination. */
  dir: string;
  name: string;
  /** `job` with a schedule is a cronjob. */
  kind: TaskKind;
  labels: Record<string, string>;
  image: { source: string } | { destination: string };
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  env: Array<{ name: string; value: string }>;
  serviceAccountSecret?: string;
  cmd: string[];
  resources: { limits: { cpu?: string; memory?: string }; requests: { cpu?: string; memory?: string } };
  schedule?: string;
  replicas: number;
  port?: { name: string; containerPort: number };
  published?: Published;
  volumes: VolumeMount[];
  tolerations: Toleration[];
  nodeSelector: Record<string, string>;
  /** Give the pods the object store (a Secret and a ConfigMap in the task namespace). */
  storage: boolean;
}

const dnsLabel = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const quantity: FieldSpec = {
  type: 'string',
  pattern: /^(\d+(\.\d+)?|\.\d+)([eE]\d+|[KMGTPE]i|[mkMGTPE])?$/,
  accepted: 'a Kubernetes quantity such as 0.20, 150m, 200Mi or 1G',
};
const text: FieldSpec = { type: 'string' };

export const MANIFEST_SPEC: FieldSpec = {
  type: 'object',
  fields: {
    labels: {
      type: 'string',
      accepted: 'key:value pairs separated by commas, such as "app:gstogs"',
    },
    type: { type: 'enum', values: ['job', 'deployment', 'service'] },
    published: {
      type: 'object',
      fields: {
        // The group is the gateway's user name for it and part of its Secret's name.
        access: {
          type: 'string',
          pattern: /^([a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?)?$/,
          accepted: 'a group name: lowercase letters, digits and "-", such as dev',
        },
        // At least one segment: / itself is the gateway's listing of the published services.
        prefix: {
          type: 'string',
          pattern: /^(\/[\w.~-]+)+\/?$/,
          accepted: 'a path under /, such as /app/ (letters, digits, ".", "_", "~" and "-" between slashes)',
        },
        rewrite: {
          type: 'string',
          pattern: /^(\/([\w.~-]+\/)*[\w.~-]*)?$/,
          accepted: 'the path the service receives in place of the prefix, such as / or /api/',
        },
        timeout_ms: { type: 'int', min: 1, max: 3_600_000 },
        sticky_sessions: { type: 'bool' },
        bypass_auth: { type: 'bool' },
        displayed_name: text,
        icon: {
          type: 'string',
          pattern: /^([a-z0-9_]+|https?:\/\/\S+)$/,
          accepted: 'a Material icon name such as import_contacts, or an http(s) link',
        },
        visible: { type: 'bool' },
      },
    },
    name: {
      type: 'string',
      pattern: /^[a-z]([a-z0-9-]{0,50}[a-z0-9])?$/,
      accepted: 'lowercase letters, digits and "-", starting with a letter, at most 52 characters',
    },
    'image-source': { type: 'string', pattern: /^(\S+)?$/, accepted: 'an image reference' },
    'image-destination': { type: 'string', pattern: /^(\S+)?$/, accepted: 'an image reference' },
    'image-pull-policy': { type: 'enum', values: ['Always', 'IfNotPresent', 'Never'] },
    env: {
      type: 'list',
      of: {
        type: 'object',
        fields: {
          name: { type: 'string', pattern: /^[A-Za-z_][A-Za-z0-9_.-]*$/, accepted: 'an environment variable name' },
          value: text,
        },
      },
    },
    'svc-account-secret': {
      type: 'string',
      pattern: /^([a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?)?$/,
      accepted: 'the name of a Secret in the task namespace',
    },
    cmd: { type: 'list', of: text },
    'cpu-limit': quantity,
    'memory-limit': quantity,
    'cpu-request': quantity,
    'memory-request': quantity,
    schedule: text,
    replicas: { type: 'int', min: 0, max: 100 },
    'name-port': {
      type: 'string',
      pattern: /^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/,
      accepted: 'a port name: lowercase letters, digits and "-", at most 15 characters',
    },
    'container-port': { type: 'int', min: 1, max: 65535 },
    volumes: {
      type: 'list',
      of: {
        type: 'object',
        fields: {
          name: { type: 'string', pattern: dnsLabel, accepted: 'a volume name (a DNS label)' },
          mountPath: { type: 'string', pattern: /^\/\S*$/, accepted: 'an absolute path in the container' },
          readOnly: { type: 'bool' },
          secret: { type: 'string', pattern: dnsLabel, accepted: 'a Secret name' },
          configMap: { type: 'string', pattern: dnsLabel, accepted: 'a ConfigMap name' },
          persistentVolumeClaim: { type: 'string', pattern: dnsLabel, accepted: 'a PersistentVolumeClaim name' },
          emptyDir: { type: 'bool' },
        },
      },
    },
    tolerations: {
      type: 'list',
      of: {
        type: 'object',
        fields: {
          key: text,
          operator: { type: 'enum', values: ['Equal', 'Exists'] },
          value: text,
          effect: { type: 'enum', values: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] },
          tolerationSeconds: { type: 'int', min: 0 },
        },
      },
    },
    'node-selector': { type: 'map', of: text },
    // koala's addition to the datatask format: the object store's endpoint, bucket and keys.
    storage: { type: 'bool' },
  },
};

/** "app:gstogs" or "app:flask,tier:web": each key a Kubernetes label key, each value a label value. */
export function parseLabels(value: string): { labels: Record<string, string>; problem?: string } {
  const labels: Record<string, string> = {};
  for (const pair of value.split(',').map((p) => p.trim())) {
    const at = pair.indexOf(':');
    if (at <= 0) return { labels, problem: `"${pair}" is not key:value` };
    const [key, val] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    const name = key.includes('/') ? key.slice(key.indexOf('/') + 1) : key;
    const prefix = key.includes('/') ? key.slice(0, key.indexOf('/')) : undefined;
    const part = /^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$/;
    if (!part.test(name) || (prefix !== undefined && !/^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/.test(prefix)))
      return { labels, problem: `"${key}" is not a label key` };
    if (val !== '' && !part.test(val)) return { labels, problem: `"${val}" is not a label value` };
    if (key in labels) return { labels, problem: `"${key}" is given twice` };
    labels[key] = val;
  }
  return { labels };
}

/** Read and check a manifest.json: every problem names the file, the line, the field and what is accepted. */
export async function loadTask(file: string): Promise<Task> {
  const parsed = await parseLocatedYaml(file, await readFile(file, 'utf8'));
  if (!parsed.yaml) throw new ConfigError(parsed.problems, `Fix ${file}; nothing was deployed.`);
  const value = parsed.yaml.value as Record<string, unknown>;
  const lineOf = (field: string[]): { line?: number } => {
    const line = parsed.yaml!.lineOf(field);
    return line === undefined ? {} : { line };
  };
  const problems: ConfigProblem[] = validateValue(value, MANIFEST_SPEC).map((p) => ({
    source: file,
    ...lineOf(p.path),
    field: p.path.join('.') || '(top level)',
    message: p.message,
    ...(p.accepted ? { accepted: p.accepted } : {}),
  }));
  // A manifest that is not a mapping has nothing more to check; otherwise every rule below runs
  // too, on the fields of the right type, so one run reports every problem.
  if (!isPlainObject(value)) throw new ConfigError(problems, `Fix ${file}; nothing was deployed.`);
  const problem = (field: string, message: string, accepted: string): void => {
    problems.push({ source: file, ...lineOf([field.split('.')[0]!]), field, message, accepted });
  };
  const str = (field: string): string | undefined => {
    const v = value[field];
    return typeof v === 'string' && v !== '' ? v : undefined;
  };
  const set = (field: string): boolean => value[field] !== undefined && value[field] !== '';

  for (const [field, accepted] of [
    ['type', 'job, deployment or service'],
    ['name', 'the task name, such as gstogs'],
    ['labels', 'key:value pairs, such as "app:gstogs"'],
  ] as const)
    if (!set(field)) problem(field, 'is required', accepted);
  const type = ['job', 'deployment', 'service'].includes(value.type as string)
    ? (value.type as 'job' | 'deployment' | 'service')
    : undefined;
  const labels = str('labels') === undefined ? { labels: {} } : parseLabels(str('labels')!);
  if (labels.problem) problem('labels', labels.problem, 'key:value pairs separated by commas, such as "app:gstogs"');

  const source = str('image-source');
  const destination = str('image-destination');
  if (source && destination)
    problem(
      'image-destination',
      'is set together with image-source',
      'one of them: image-source to run an image as it is, image-destination to build this folder',
    );
  if (!source && !destination)
    problem('image-source', 'neither image-source nor image-destination is set', 'one of the two image fields');
  const dir = path.dirname(file);
  if (destination && !existsSync(path.join(dir, 'Dockerfile')))
    problem(
      'image-destination',
      `means "build this folder", and ${dir} has no Dockerfile`,
      'a Dockerfile beside manifest.json, or image-source',
    );

  const schedule = str('schedule');
  if (schedule !== undefined) {
    const why = cronProblem(schedule);
    if (why) problem('schedule', why, CRON_ACCEPTED);
    if (type && type !== 'job') problem('schedule', `is for a job, and this task is a ${type}`, 'no schedule');
  }
  if (type === 'job' && value.replicas !== undefined)
    problem('replicas', 'is for a service or deployment, and this task is a job', 'no replicas');
  const published = isPlainObject(value.published) ? value.published : undefined;
  const hasPublished = published !== undefined && Object.keys(published).length > 0;
  if (type !== 'service' && hasPublished)
    problem('published', `is for a service, and this task is a ${type ?? 'task without a type'}`, 'no published');
  const port = typeof value['container-port'] === 'number' ? value['container-port'] : undefined;
  const portName = str('name-port');
  if (type === 'job' && (port !== undefined || portName !== undefined))
    problem(port !== undefined ? 'container-port' : 'name-port', 'is for a service or deployment', 'no port');
  else if (port !== undefined && portName === undefined)
    problem('name-port', 'is required with container-port', 'a port name such as app-port');
  else if (portName !== undefined && port === undefined)
    problem('container-port', 'is required with name-port', 'the port the application listens on, such as 5000');
  else if (type === 'service' && port === undefined)
    problem('container-port', 'is required for a service', 'the port the application listens on, such as 5000');

  if (hasPublished) {
    if (typeof published.prefix !== 'string')
      problem('published.prefix', 'is required', 'the URL path the service is published under, such as /app/');
    if (published.bypass_auth !== true && (typeof published.access !== 'string' || published.access === ''))
      problem('published.access', 'is required unless bypass_auth is true', 'the group given access, such as dev');
  }
  const volumes = Array.isArray(value.volumes) ? value.volumes.filter(isPlainObject) : [];
  const names = new Set<string>();
  for (const [i, v] of volumes.entries()) {
    const sources = ['secret', 'configMap', 'persistentVolumeClaim', 'emptyDir'].filter((k) => v[k] !== undefined);
    if (sources.length !== 1)
      problem(
        `volumes.${i}`,
        `has ${sources.length} sources`,
        'exactly one of secret, configMap, persistentVolumeClaim, emptyDir',
      );
    for (const key of ['name', 'mountPath'])
      if (v[key] === undefined) problem(`volumes.${i}.${key}`, 'is required', `the volume's ${key}`);
    if (typeof v.name === 'string' && names.has(v.name))
      problem(`volumes.${i}.name`, `"${v.name}" is used twice`, 'distinct volume names');
    if (typeof v.name === 'string') names.add(v.name);
  }
  if (problems.length > 0) throw new ConfigError(problems, `Fix ${file}; nothing was deployed.`);

  const kind: TaskKind = type === 'job' && schedule ? 'cronjob' : type!;
  return {
    file,
    dir,
    name: value.name as string,
    kind,
    labels: labels.labels,
    image: source ? { source } : { destination: destination! },
    imagePullPolicy: (value['image-pull-policy'] as Task['imagePullPolicy'] | undefined) ?? 'Always',
    env: (value.env as Task['env'] | undefined) ?? [],
    ...(str('svc-account-secret') ? { serviceAccountSecret: str('svc-account-secret')! } : {}),
    cmd: (value.cmd as string[] | undefined) ?? [],
    resources: {
      limits: { ...pick('cpu', str('cpu-limit')), ...pick('memory', str('memory-limit')) },
      requests: { ...pick('cpu', str('cpu-request')), ...pick('memory', str('memory-request')) },
    },
    ...(schedule ? { schedule } : {}),
    replicas: (value.replicas as number | undefined) ?? 1,
    ...(port !== undefined ? { port: { name: portName!, containerPort: port } } : {}),
    ...(hasPublished ? { published: publishedOf(published, value.name as string) } : {}),
    volumes: volumes.map((v) => ({
      name: v.name as string,
      mountPath: v.mountPath as string,
      readOnly: (v.readOnly as boolean | undefined) ?? false,
      source:
        v.secret !== undefined
          ? { secret: v.secret as string }
          : v.configMap !== undefined
            ? { configMap: v.configMap as string }
            : v.persistentVolumeClaim !== undefined
              ? { persistentVolumeClaim: v.persistentVolumeClaim as string }
              : { emptyDir: true },
    })),
    tolerations: (value.tolerations as Toleration[] | undefined) ?? [],
    nodeSelector: (value['node-selector'] as Record<string, string> | undefined) ?? {},
    storage: value.storage === true,
  };
}

const pick = <K extends string>(key: K, v: string | undefined): Partial<Record<K, string>> =>
  v === undefined ? {} : ({ [key]: v } as Record<K, string>);

/** The documented defaults: 6000 ms, no sticky sessions, auth on, shown under its own name with import_contacts. */
function publishedOf(p: Record<string, unknown>, name: string): Published {
  return {
    ...(typeof p.access === 'string' && p.access !== '' ? { access: p.access } : {}),
    prefix: p.prefix as string,
    ...(typeof p.rewrite === 'string' && p.rewrite !== '' ? { rewrite: p.rewrite } : {}),
    timeoutMs: (p.timeout_ms as number | undefined) ?? 6000,
    stickySessions: (p.sticky_sessions as boolean | undefined) ?? false,
    bypassAuth: (p.bypass_auth as boolean | undefined) ?? false,
    displayedName: (p.displayed_name as string | undefined) ?? name,
    icon: (p.icon as string | undefined) ?? 'import_contacts',
    visible: (p.visible as boolean | undefined) ?? true,
  };
}
