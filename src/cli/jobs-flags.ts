import { EXIT, KoalaError } from '../util/errors.ts';

/** --build-arg KEY=VALUE, repeatable. */
export function parseBuildArgs(values: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values ?? []) {
    const eq = value.indexOf('=');
    if (eq <= 0)
      throw new KoalaError(`--build-arg "${value}" is not KEY=VALUE`, {
        exitCode: EXIT.usage,
        hint: 'Example: --build-arg SPARK_IMAGE=apache/spark:4.0.4',
      });
    out[value.slice(0, eq)] = value.slice(eq + 1);
  }
  return out;
}
