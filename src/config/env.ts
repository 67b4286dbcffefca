import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

/** A variable and where it was set, so errors can point at the right file and line. */
export interface EnvValue {
  value: string;
  source: string;
  line?: number;
}

/**
 * The environment koala reads: .env, then .env.private (the git-ignored file for secrets),
 * then the real environment, each overriding the one before, as dotenv users expect.
 */
export async function loadEnv(
  projectDir: string,
  processEnv: NodeJS.ProcessEnv,
): Promise<{ env: Map<string, EnvValue>; warnings: string[] }> {
  const { parse } = await import('dotenv');
  const env = new Map<string, EnvValue>();
  const warnings: string[] = [];
  for (const name of ['.env', '.env.private']) {
    const file = path.join(projectDir, name);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    if (name === '.env.private') {
      const mode = (await stat(file)).mode & 0o777;
      if (mode & 0o077)
        warnings.push(`${file} is readable by other users (mode ${mode.toString(8)}); run \`chmod 600 ${file}\``);
    }
    const lines = text.split(/\r?\n/);
    for (const [key, value] of Object.entries(parse(text))) {
      const index = lines.findIndex((l) => new RegExp(`^\\s*(export\\s+)?${key}\\s*=`).test(l));
      env.set(key, { value, source: file, ...(index >= 0 ? { line: index + 1 } : {}) });
    }
  }
  for (const [key, value] of Object.entries(processEnv)) {
    if (value !== undefined) env.set(key, { value, source: `environment variable ${key}` });
  }
  return { env, warnings };
}
