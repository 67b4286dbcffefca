/**
 * The committed JSON Schemas of koala's --json documents (test/unit/__snapshots__/json-results/,
 * generated from src/cli/results.ts by test/unit/json-results.test.ts), and a check of real
 * output against them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import type { JsonDocuments, UpDryRunJson, UpRunJson } from '../../src/cli/results.ts';

export type JsonCommand = keyof JsonDocuments;

export const SCHEMA_DIR = path.resolve(import.meta.dirname, '../unit/__snapshots__/json-results');

/** apps list → apps-list.schema.json */
export function schemaFile(command: string): string {
  return path.join(SCHEMA_DIR, `${command.replaceAll(' ', '-')}.schema.json`);
}

const ajv = new Ajv({ allErrors: true });
const compiled = new Map<JsonCommand, ValidateFunction>();

/** stdout of `koala <command> --json`, parsed and checked against its committed schema. */
export function jsonDocument<C extends JsonCommand>(command: C, stdout: string): JsonDocuments[C] {
  let validate = compiled.get(command);
  if (!validate) {
    validate = ajv.compile(JSON.parse(readFileSync(schemaFile(command), 'utf8')) as object);
    compiled.set(command, validate);
  }
  const value = JSON.parse(stdout) as unknown;
  if (!validate(value)) {
    const errors = ajv.errorsText(validate.errors, { separator: '\n' });
    throw new Error(
      `koala ${command} --json does not match ${path.basename(schemaFile(command))}:\n${errors}\n${stdout}`,
    );
  }
  return value as JsonDocuments[C];
}

/** `koala up --json` that ran its plan: the `up` schema, then not the --dry-run branch of it. */
export function upRunDocument(stdout: string): UpRunJson {
  const doc = jsonDocument('up', stdout);
  if ('dryRun' in doc) throw new Error(`koala up --json printed a plan, not a run:\n${stdout}`);
  return doc;
}

/** `koala up --dry-run --json`. */
export function upDryRunDocument(stdout: string): UpDryRunJson {
  const doc = jsonDocument('up', stdout);
  if (!('dryRun' in doc)) throw new Error(`koala up --dry-run --json printed a run, not a plan:\n${stdout}`);
  return doc;
}
