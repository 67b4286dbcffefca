import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { assetPath } from '../util/paths.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import { APPS_DIR, APP_SPEC, DEFAULT_SPARK_VERSION } from './app-file.ts';

export const SCAFFOLD_LANGUAGES = ['python'] as const;
export type ScaffoldLanguage = (typeof SCAFFOLD_LANGUAGES)[number];

export interface ScaffoldRequest {
  projectDir: string;
  name: string;
  language?: ScaffoldLanguage;
  /** The bucket the example writes its ranks to. */
  bucket: string;
  sparkVersion?: string;
  /** The Dockerfile's default SPARK_IMAGE (koala.yaml's images.spark or mirror); apache/spark otherwise. */
  sparkImage?: (sparkVersion: string) => string;
}

export interface ScaffoldResult {
  dir: string;
  files: string[];
}

/**
 * `koala new spark-app <name>`: spark-applications/<name>/ with a Dockerfile, the code, a small
 * bundled graph and spark-app.yaml, laid out like the Spark operator's pagerank example. Refuses to touch an
 * existing folder, so nothing a user wrote is ever overwritten.
 */
export async function scaffoldSparkApp(request: ScaffoldRequest): Promise<ScaffoldResult> {
  const nameSpec = APP_SPEC.type === 'object' ? APP_SPEC.fields.name : undefined;
  if (nameSpec?.type === 'string' && nameSpec.pattern && !nameSpec.pattern.test(request.name)) {
    throw new KoalaError(`"${request.name}" is not a valid app name: use ${nameSpec.accepted}`, {
      exitCode: EXIT.usage,
      hint: 'Pick a name like pagerank or daily-sales.',
    });
  }
  const language = request.language ?? 'python';
  const dir = path.join(request.projectDir, APPS_DIR, request.name);
  if (existsSync(dir)) {
    throw new KoalaError(`${dir} already exists`, {
      exitCode: EXIT.usage,
      hint: `Choose another name, or delete ${dir} first; koala never overwrites an app.`,
    });
  }
  const template = assetPath('templates', 'spark-app', language);
  const sparkVersion = request.sparkVersion ?? DEFAULT_SPARK_VERSION;
  const values: Record<string, string> = {
    name: request.name,
    mainFile: language === 'python' ? 'pagerank.py' : 'app.jar',
    sparkVersion,
    sparkImage: request.sparkImage?.(sparkVersion) ?? `apache/spark:${sparkVersion}`,
    bucket: request.bucket,
  };
  const files: string[] = [];
  for (const relative of await listFiles(template)) {
    const text = await readFile(path.join(template, relative), 'utf8');
    const target = path.join(dir, relative);
    await mkdir(path.dirname(target), { recursive: true });
    await writeFile(
      target,
      text.replaceAll(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole),
    );
    files.push(relative);
  }
  return { dir, files: files.sort() };
}

async function listFiles(root: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(path.join(root, prefix), { withFileTypes: true })) {
    const relative = path.join(prefix, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(root, relative)));
    else out.push(relative);
  }
  return out;
}
