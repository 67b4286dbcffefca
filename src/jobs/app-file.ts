import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { validateValue, type FieldSpec } from '../config/spec.ts';
import { parseLocatedYaml } from '../config/yaml-file.ts';
import { ConfigError, KoalaError, EXIT, type ConfigProblem } from '../util/errors.ts';

/** The file that makes a folder a koala Spark app: spark-applications/<name>/spark-app.yaml. */
export const APP_FILE = 'spark-app.yaml';
export const APPS_DIR = 'spark-applications';
/** Where the Dockerfile puts the app's files in the image. */
export const IMAGE_APP_DIR = '/app';
export const DEFAULT_SPARK_VERSION = '4.0.4';

export type AppType = 'Python' | 'Scala' | 'Java';

export interface Resources {
  cores: number;
  /** The pod's CPU request, below `cores` on small machines (Spark still runs `cores` tasks). */
  coreRequest?: string;
  coreLimit?: string;
  memory: string;
}

/** A Spark app as its author describes it; koala renders the SparkApplication from it. */
export interface SparkApp {
  name: string;
  /** The app folder (build context). */
  dir: string;
  file: string;
  type: AppType;
  /** Relative to the app folder; in the image under /app. */
  mainFile: string;
  mainClass?: string;
  arguments: string[];
  sparkVersion: string;
  namespace?: string;
  driver: Resources;
  executor: Resources & { instances: number };
  env: Record<string, string>;
  /** Give the driver and executors the object store's credentials and s3a settings. */
  objectStore: boolean;
  sparkConf: Record<string, string>;
  restartPolicy?: {
    type: 'Never' | 'OnFailure' | 'Always';
    onFailureRetries?: number;
    onFailureRetryInterval?: number;
  };
  build: { args: Record<string, string>; dockerfile: string };
  /** Finished runs kept in the cluster; older ones are deleted when a new run starts. */
  keepRuns: number;
}

const dnsName = /^[a-z]([a-z0-9-]{0,38}[a-z0-9])?$/;
const quantity = {
  type: 'string',
  pattern: /^\d+(\.\d+)?([kKmMgGtT]i?|[mkMG])?$/,
  accepted: 'a quantity like 512m, 1g or 1200m',
} as const;
const cpu = {
  type: 'string',
  pattern: /^(\d+(\.\d+)?|\d+m)$/,
  accepted: 'a CPU quantity like 250m, 0.5 or 1',
} as const;
const resources = (withInstances: boolean): FieldSpec => ({
  type: 'object',
  fields: {
    cores: { type: 'int', min: 1, max: 64 },
    coreRequest: cpu,
    coreLimit: quantity,
    memory: quantity,
    ...(withInstances ? { instances: { type: 'int', min: 1, max: 100 } as FieldSpec } : {}),
  },
});

export const APP_SPEC: FieldSpec = {
  type: 'object',
  fields: {
    name: {
      type: 'string',
      pattern: dnsName,
      accepted:
        'lowercase letters, digits and "-", starting with a letter, at most 40 characters (run names add a suffix)',
    },
    type: { type: 'enum', values: ['Python', 'Scala', 'Java'] },
    mainFile: {
      type: 'string',
      pattern: /^[\w./-]+$/,
      accepted: 'a path inside the app folder, like pagerank.py or target/app.jar',
    },
    mainClass: { type: 'string', pattern: /^[\w.$]+$/, accepted: 'a fully qualified class name' },
    arguments: { type: 'list', of: { type: 'string' } },
    sparkVersion: { type: 'string', pattern: /^\d+\.\d+\.\d+$/, accepted: 'a Spark version like 4.0.4' },
    namespace: { type: 'string', pattern: /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, accepted: 'a namespace name' },
    driver: resources(false),
    executor: resources(true),
    env: {
      type: 'map',
      of: { type: 'string' },
      key: { pattern: /^[A-Za-z_][A-Za-z0-9_]*$/, accepted: 'an environment variable name' },
    },
    objectStore: { type: 'bool' },
    sparkConf: { type: 'map', of: { type: 'string' } },
    restartPolicy: {
      type: 'object',
      fields: {
        type: { type: 'enum', values: ['Never', 'OnFailure', 'Always'] },
        onFailureRetries: { type: 'int', min: 0, max: 100 },
        onFailureRetryInterval: { type: 'int', min: 1, max: 3600 },
      },
    },
    build: {
      type: 'object',
      fields: { args: { type: 'map', of: { type: 'string' } }, dockerfile: { type: 'string' } },
    },
    keepRuns: { type: 'int', min: 1, max: 100 },
  },
};

/** Find an app by name (spark-applications/<name>) or by path, from the project dir. */
export function findAppDir(projectDir: string, nameOrPath: string): string {
  const candidates = [
    path.resolve(projectDir, APPS_DIR, nameOrPath),
    path.resolve(process.cwd(), nameOrPath),
    path.resolve(projectDir, nameOrPath),
  ];
  const found = candidates.find((dir) => existsSync(path.join(dir, APP_FILE)));
  if (!found) {
    throw new KoalaError(
      `No Spark app "${nameOrPath}": no ${APP_FILE} in ${path.join(projectDir, APPS_DIR, nameOrPath)}`,
      {
        exitCode: EXIT.usage,
        hint:
          `Create one with \`koala new spark-app ${path.basename(nameOrPath)}\`, ` +
          'or run an existing manifest with `koala run -f <file.yaml>`.',
      },
    );
  }
  return found;
}

/** Read and validate an app file; every problem names the file, line, field and what is accepted. */
export async function loadApp(dir: string): Promise<SparkApp> {
  const file = path.join(dir, APP_FILE);
  const parsed = await parseLocatedYaml(file, await readFile(file, 'utf8'));
  if (!parsed.yaml) throw new ConfigError(parsed.problems);
  const value = parsed.yaml.value as Record<string, unknown>;
  const problems: ConfigProblem[] = validateValue(value, APP_SPEC).map((p) => ({
    source: file,
    ...(parsed.yaml!.lineOf(p.path) !== undefined ? { line: parsed.yaml!.lineOf(p.path)! } : {}),
    field: p.path.join('.') || '(top level)',
    message: p.message,
    ...(p.accepted ? { accepted: p.accepted } : {}),
  }));
  const need = (field: string, accepted: string): void => {
    if (value[field] === undefined) problems.push({ source: file, line: 1, field, message: 'is required', accepted });
  };
  need('name', 'the app name, like pagerank');
  need('type', 'Python, Scala or Java');
  need('mainFile', 'the main file, like pagerank.py');
  if ((value.type === 'Scala' || value.type === 'Java') && value.mainClass === undefined)
    need('mainClass', 'the class with main(), e.g. com.example.Main');
  if (
    typeof value.mainFile === 'string' &&
    !existsSync(path.join(dir, value.mainFile)) &&
    !/\.jar$/.test(value.mainFile)
  ) {
    problems.push({
      source: file,
      line: parsed.yaml.lineOf(['mainFile']) ?? 1,
      field: 'mainFile',
      message: `${value.mainFile} does not exist in ${dir}`,
      accepted: 'a file in the app folder',
    });
  }
  if (problems.length > 0)
    throw new ConfigError(problems, `Fix ${file} and run the command again; nothing was submitted.`);

  const driver = (value.driver ?? {}) as Partial<Resources>;
  const executor = (value.executor ?? {}) as Partial<Resources & { instances: number }>;
  const build = (value.build ?? {}) as { args?: Record<string, string>; dockerfile?: string };
  return {
    name: value.name as string,
    dir,
    file,
    type: value.type as AppType,
    mainFile: value.mainFile as string,
    ...(value.mainClass ? { mainClass: value.mainClass as string } : {}),
    arguments: (value.arguments as string[] | undefined) ?? [],
    sparkVersion: (value.sparkVersion as string | undefined) ?? DEFAULT_SPARK_VERSION,
    ...(value.namespace ? { namespace: value.namespace as string } : {}),
    driver: {
      cores: driver.cores ?? 1,
      memory: driver.memory ?? '512m',
      ...(driver.coreRequest ? { coreRequest: driver.coreRequest } : {}),
      ...(driver.coreLimit ? { coreLimit: driver.coreLimit } : {}),
    },
    executor: {
      cores: executor.cores ?? 1,
      memory: executor.memory ?? '512m',
      instances: executor.instances ?? 3,
      ...(executor.coreRequest ? { coreRequest: executor.coreRequest } : {}),
      ...(executor.coreLimit ? { coreLimit: executor.coreLimit } : {}),
    },
    env: (value.env as Record<string, string> | undefined) ?? {},
    objectStore: (value.objectStore as boolean | undefined) ?? false,
    sparkConf: (value.sparkConf as Record<string, string> | undefined) ?? {},
    ...(value.restartPolicy ? { restartPolicy: value.restartPolicy as SparkApp['restartPolicy'] } : {}),
    build: { args: build.args ?? {}, dockerfile: build.dockerfile ?? 'Dockerfile' },
    keepRuns: (value.keepRuns as number | undefined) ?? 5,
  };
}
