import { readdirSync } from 'node:fs';
import path from 'node:path';
import { createGenerator, type Schema } from 'ts-json-schema-generator';
import { beforeAll, describe, expect, it } from 'vitest';
import { SCHEMA_DIR, schemaFile } from '../support/json-documents.ts';

/**
 * The JSON Schema of every --json document, generated from its type in src/cli/results.ts and
 * compared with the committed file in __snapshots__/json-results/: a change of what a command
 * prints shows up as a diff of that file (`npx vitest run --project unit -u` writes it). The
 * commands are the keys of JsonDocuments, so a document added there gets its file here.
 * Building the TypeScript program takes most of the time (@kubernetes/client-node's typings).
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const schemas = new Map<string, Schema>();

beforeAll(() => {
  const generator = createGenerator({
    path: path.join(ROOT, 'src/cli/results.ts'),
    tsconfig: path.join(ROOT, 'tsconfig.json'),
    // tsc checks the types; the generator only reads them.
    skipTypeCheck: true,
  });
  const documents = generator.createSchema('JsonDocuments').definitions?.JsonDocuments as {
    properties: Record<string, { $ref: string }>;
  };
  for (const [command, { $ref }] of Object.entries(documents.properties))
    schemas.set(command, generator.createSchema($ref.replace('#/definitions/', '')));
}, 120_000);

describe('the JSON Schema of each --json document', () => {
  it('is the committed snapshot, one file per command', async () => {
    expect(schemas.size).toBeGreaterThan(15);
    for (const [command, schema] of schemas)
      await expect(`${JSON.stringify(schema, null, 2)}\n`).toMatchFileSnapshot(schemaFile(command));
  });

  it('has no file left from a command that no longer prints JSON', () => {
    const expected = new Set([...schemas.keys()].map((c) => path.basename(schemaFile(c))));
    expect(readdirSync(SCHEMA_DIR).filter((f) => !expected.has(f))).toEqual([]);
  });
});
