/**
 * Where the upstream fixtures live (the SparkApplication CRD, the operator chart's values and
 * examples). They are data from other projects, kept beside the repository, never copied into
 * it: ../shared/fixtures next to a checkout, or any ancestor's shared/fixtures (a clone made
 * elsewhere on the machine), or KOALA_FIXTURES_DIR. Missing fixtures fail the test that needs
 * them, with this message; they are never a skip.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '../..');

export function fixturesDir(): string {
  const candidates = [
    process.env.KOALA_FIXTURES_DIR,
    ...ancestors(REPO).map((dir) => path.join(dir, 'shared', 'fixtures')),
    '/work/shared/fixtures',
  ].filter((d): d is string => Boolean(d));
  const found = candidates.find((d) => existsSync(path.join(d, 'README.md')));
  if (!found)
    throw new Error(
      `The upstream test fixtures were not found (looked in ${candidates.join(', ')}): ` +
        'set KOALA_FIXTURES_DIR to the shared/fixtures directory.',
    );
  return found;
}

export function sparkOperatorFixtures(): string {
  return path.join(fixturesDir(), 'spark-operator-2.5.2');
}

function ancestors(dir: string): string[] {
  const parent = path.dirname(dir);
  return parent === dir ? [] : [parent, ...ancestors(parent)];
}
