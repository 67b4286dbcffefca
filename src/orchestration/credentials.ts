import { randomBytes, randomInt } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { EnvValue } from '../config/env.ts';
import type { KoalaConfig } from '../config/schema.ts';
import { registerSecret } from '../tools/redact.ts';
import { ConfigError, type ConfigProblem } from '../util/errors.ts';
import type { PlatformContext } from './context.ts';
import { writePrivateFile } from './state.ts';

/**
 * The platform's credentials: random per cluster, or taken from .env.private (or the
 * environment) when the user sets them. They live in memory, in Secrets in the cluster, and in
 * a 0600 file in the cluster's state directory; every value is registered for redaction the
 * moment it is known, so no log line, --verbose output or error can show it.
 */
export interface Credentials {
  objectStore: { accessKey: string; secretKey: string };
  airflow: { username: string; password: string; fernetKey: string; apiSecretKey: string; jwtSecret: string };
  postgres: { password: string };
}

type Group = keyof Credentials;
interface Field {
  group: Group;
  key: string;
  /** Variables the user may set it with, first wins. Empty: always generated. */
  env: string[];
  generate(): string;
  /** A user name, not a secret: shown, never redacted. */
  identity?: boolean;
  minLength: number;
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const UPPER_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export function randomString(length: number, alphabet = ALNUM): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

export const CREDENTIAL_FIELDS: readonly Field[] = [
  {
    group: 'objectStore',
    key: 'accessKey',
    env: ['KOALA_OBJECT_STORE_ACCESS_KEY', 'MINIO_ACCESS_KEY'],
    generate: () => randomString(20, UPPER_DIGITS),
    identity: true,
    minLength: 3,
  },
  {
    group: 'objectStore',
    key: 'secretKey',
    env: ['KOALA_OBJECT_STORE_SECRET_KEY', 'MINIO_SECRET_KEY'],
    generate: () => randomString(40),
    minLength: 12,
  },
  {
    group: 'airflow',
    key: 'username',
    env: ['KOALA_AIRFLOW_USERNAME', 'AIRFLOW_USERNAME'],
    generate: () => 'admin',
    identity: true,
    minLength: 1,
  },
  {
    group: 'airflow',
    key: 'password',
    env: ['KOALA_AIRFLOW_PASSWORD', 'AIRFLOW_PASSWORD'],
    generate: () => randomString(24),
    minLength: 12,
  },
  // Fernet keys are 32 random bytes, URL-safe base64 with padding.
  {
    group: 'airflow',
    key: 'fernetKey',
    env: [],
    generate: () => randomBytes(32).toString('base64').replaceAll('+', '-').replaceAll('/', '_'),
    minLength: 44,
  },
  { group: 'airflow', key: 'apiSecretKey', env: [], generate: () => randomBytes(32).toString('hex'), minLength: 32 },
  { group: 'airflow', key: 'jwtSecret', env: [], generate: () => randomBytes(32).toString('hex'), minLength: 32 },
  {
    group: 'postgres',
    key: 'password',
    env: ['KOALA_POSTGRES_PASSWORD'],
    generate: () => randomString(24),
    minLength: 12,
  },
];

/** Values that are placeholders or well-known defaults, never accepted as a credential. */
const WEAK_VALUES = [
  ...['admin', 'administrator', 'root', 'test'],
  ...['password', 'passw0rd', 'secret', 'changeme', 'qwerty', '123456.*'],
  // The defaults of the platform's own images and charts.
  ...['minioadmin', 'minio123', 'airflow', 'postgres'],
];
const WEAK = new RegExp(`^(${WEAK_VALUES.join('|')})$`, 'i');
const STRONG_VALUE_HINT =
  'Set a strong value in .env.private (chmod 600), ' +
  'or remove the variable to let koala generate one; nothing was changed.';
const EXTERNAL_KEYS_HINT =
  "Add the external store's keys to .env.private (chmod 600): " +
  'KOALA_OBJECT_STORE_ACCESS_KEY=... and KOALA_OBJECT_STORE_SECRET_KEY=...; nothing was changed.';
const PLACEHOLDER = /^(my|your)_[a-z0-9_]*$|change[_-]?me|placeholder|<[^>]*>|^x{3,}$|^\$\{/i;

export const CREDENTIALS_FILE = 'credentials.json';
export function credentialsFile(ctx: Pick<PlatformContext, 'home'>): string {
  return path.join(ctx.home, CREDENTIALS_FILE);
}

export interface Resolution {
  credentials: Credentials;
  /** Where each value came from, by "group.key": env source, "file", "cluster" or "generated". */
  sources: Record<string, string>;
}

/**
 * User-set values (environment, .env.private) win; then the local file; then what the cluster
 * already holds (`fromCluster`, e.g. after the state directory was removed); then fresh random
 * values. Nothing is written here: the caller persists once the result is used.
 */
export async function resolveCredentials(
  env: ReadonlyMap<string, EnvValue>,
  stored: Partial<Record<Group, Record<string, string>>> | undefined,
  fromCluster?: () => Promise<Partial<Record<Group, Record<string, string>>> | undefined>,
  config?: KoalaConfig,
): Promise<Resolution> {
  const missing = config ? missingUserValues(env, config) : [];
  const problems: ConfigProblem[] = [...missing];
  const out = { objectStore: {}, airflow: {}, postgres: {} } as Record<Group, Record<string, string>>;
  const sources: Record<string, string> = {};
  let cluster: Partial<Record<Group, Record<string, string>>> | undefined;
  let clusterRead = false;
  for (const field of CREDENTIAL_FIELDS) {
    const id = `${field.group}.${field.key}`;
    const name = field.env.find((n) => env.get(n)?.value);
    if (name) {
      const found = env.get(name)!;
      const problem = checkUserValue(field, name, found);
      if (problem) problems.push(problem);
      out[field.group][field.key] = found.value;
      sources[id] = found.source;
      continue;
    }
    const fromFile = stored?.[field.group]?.[field.key];
    if (fromFile) {
      out[field.group][field.key] = fromFile;
      sources[id] = 'file';
      continue;
    }
    if (!clusterRead && fromCluster) {
      clusterRead = true;
      cluster = await fromCluster();
    }
    const fromClusterValue = cluster?.[field.group]?.[field.key];
    if (fromClusterValue) {
      out[field.group][field.key] = fromClusterValue;
      sources[id] = 'cluster';
      continue;
    }
    out[field.group][field.key] = field.generate();
    sources[id] = 'generated';
  }
  if (problems.length > 0) throw new ConfigError(problems, missing.length > 0 ? EXTERNAL_KEYS_HINT : STRONG_VALUE_HINT);
  const credentials = out as unknown as Credentials;
  registerCredentials(credentials);
  return { credentials, sources };
}

/**
 * The credentials the user set, checked before anything changes (koala up calls this with the
 * other input checks): a bad value is exit code 2 with the file, line and variable.
 */
export function checkCredentialInputs(env: ReadonlyMap<string, EnvValue>, config?: KoalaConfig): void {
  const problems: ConfigProblem[] = [];
  for (const field of CREDENTIAL_FIELDS) {
    const name = field.env.find((n) => env.get(n)?.value);
    const problem = name ? checkUserValue(field, name, env.get(name)!) : undefined;
    if (problem) problems.push(problem);
  }
  const missing = config ? missingUserValues(env, config) : [];
  problems.push(...missing);
  if (problems.length > 0) throw new ConfigError(problems, missing.length > 0 ? EXTERNAL_KEYS_HINT : STRONG_VALUE_HINT);
}

/** Groups whose values only the user can give: the keys of an external object store, which koala does not run. */
function userOnlyGroups(config: KoalaConfig): Group[] {
  return config.objectStore.type === 'external' ? ['objectStore'] : [];
}

function missingUserValues(env: ReadonlyMap<string, EnvValue>, config: KoalaConfig): ConfigProblem[] {
  const groups = userOnlyGroups(config);
  return CREDENTIAL_FIELDS.filter((f) => groups.includes(f.group) && !f.env.some((n) => env.get(n)?.value)).map(
    (f) => ({
      source: path.join(config.projectDir, '.env.private'),
      field: f.env[0]!,
      message:
        `is required: objectStore.type is external (${config.objectStore.endpoint ?? ''}), ` +
        'whose keys koala cannot make',
      accepted: `the store's ${f.key === 'accessKey' ? 'access' : 'secret'} key, in .env.private or the environment`,
    }),
  );
}

function checkUserValue(field: Field, name: string, found: EnvValue): ConfigProblem | undefined {
  const at = { source: found.source, ...(found.line ? { line: found.line } : {}), field: name };
  const value = found.value;
  // A committed .env is the wrong place for a secret; .env.private is git-ignored.
  if (!field.identity && path.basename(found.source) === '.env') {
    return {
      ...at,
      message: 'a secret in .env (which is often committed)',
      accepted: 'the same line in .env.private, or the environment',
    };
  }
  if (PLACEHOLDER.test(value) || (!field.identity && WEAK.test(value))) {
    return {
      ...at,
      message: 'is a placeholder or a well-known default',
      accepted: `a value of your own, at least ${field.minLength} characters`,
    };
  }
  if (value.length < field.minLength)
    return {
      ...at,
      message: `is too short (${value.length} characters)`,
      accepted: `at least ${field.minLength} characters`,
    };
  if (field.identity && !/^[A-Za-z0-9._@-]{1,64}$/.test(value)) {
    return {
      ...at,
      message: 'has characters a user name cannot have',
      accepted: 'letters, digits and . _ @ -, at most 64 characters',
    };
  }
  return undefined;
}

export function registerCredentials(c: Credentials): void {
  for (const field of CREDENTIAL_FIELDS) if (!field.identity) registerSecret(c[field.group][field.key as never]);
}

export async function readCredentialsFile(
  file: string,
): Promise<Partial<Record<Group, Record<string, string>>> | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as {
      credentials?: Partial<Record<Group, Record<string, string>>>;
    };
    return parsed.credentials;
  } catch {
    return undefined;
  }
}

/** Write the 0600 file, unless it already holds exactly these values. Returns whether it wrote. */
export async function storeCredentials(file: string, credentials: Credentials): Promise<boolean> {
  const current = await readCredentialsFile(file);
  if (current && JSON.stringify(current) === JSON.stringify(credentials)) return false;
  const note = 'Written by koala: the credentials of this cluster. Keep it private (mode 0600).';
  await writePrivateFile(file, `${JSON.stringify({ note, credentials }, null, 2)}\n`);
  return true;
}
