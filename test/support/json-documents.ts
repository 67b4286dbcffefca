/**
 * The committed JSON Schemas of koala's --json documents (test/unit/__snapshots__/json-results/,
 * generated from src/cli/results.ts by test/unit/json-results.test.ts).
 */
import path from 'node:path';

export const SCHEMA_DIR = path.resolve(import.meta.dirname, '../unit/__snapshots__/json-results');

/** apps list → apps-list.schema.json */
export function schemaFile(command: string): string {
  return path.join(SCHEMA_DIR, `${command.replaceAll(' ', '-')}.schema.json`);
}
