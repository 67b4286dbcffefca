import { readFile } from 'node:fs/promises';
import { assetPath } from '../util/paths.ts';

/**
 * The SparkApplication schema of the operator koala pins, checked locally: a wrong field is
 * reported with its file and line before any cluster is needed (`koala run -f --dry-run` works
 * with no cluster at all). The schema is the CRD's own OpenAPI v3 schema with the descriptions
 * removed (assets/spark-operator/, written by scripts/spark-crd-schema.ts from the pinned
 * chart's CRD); the API server's own dry run still follows, against the CRD really installed.
 */

/** The structural-schema keywords a CRD uses (Kubernetes allows no others for validation). */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  nullable?: boolean;
  anyOf?: Schema[];
  format?: string;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

export interface SchemaAsset {
  /** Where the schema came from: chart, version and file. */
  source: { chart: string; version: string; file: string };
  apiVersion: string;
  schema: Schema;
}

export const CRD_FILE = 'sparkoperator.k8s.io_sparkapplications.yaml';
export const SCHEMA_ASSET = ['spark-operator', 'sparkapplication.schema.json'] as const;

const KEPT = new Set([
  'type',
  'properties',
  'additionalProperties',
  'items',
  'required',
  'enum',
  'pattern',
  'minimum',
  'maximum',
  'nullable',
  'anyOf',
  'format',
  'x-kubernetes-int-or-string',
  'x-kubernetes-preserve-unknown-fields',
]);

/** The validation part of a CRD version's schema: descriptions, defaults and list hints dropped. */
export function compactSchema(schema: unknown): Schema {
  if (Array.isArray(schema)) return schema.map(compactSchema) as never;
  if (schema === null || typeof schema !== 'object') return schema as never;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
    if (!KEPT.has(key)) continue;
    const entries = key === 'properties' ? Object.entries(value as Record<string, unknown>) : [];
    if (key === 'properties') out[key] = Object.fromEntries(entries.map(([k, v]) => [k, compactSchema(v)]));
    else if (key === 'required' || key === 'enum') out[key] = value;
    else out[key] = compactSchema(value);
  }
  return out as Schema;
}

/** The asset for one chart version, from the SparkApplication CRD its crds/ folder holds. */
export function schemaAssetFromCrd(crd: unknown, chartVersion: string): SchemaAsset {
  type Version = { name: string; served?: boolean; schema?: { openAPIV3Schema?: unknown } };
  const spec = (crd as { spec?: { group?: string; versions?: Version[] } }).spec;
  const version = spec?.versions?.find((v) => v.served !== false && v.schema?.openAPIV3Schema);
  if (!spec?.group || !version) throw new Error('not a CRD with a served version and a schema');
  return {
    source: { chart: 'spark-operator', version: chartVersion, file: `crds/${CRD_FILE}` },
    apiVersion: `${spec.group}/${version.name}`,
    schema: compactSchema(version.schema!.openAPIV3Schema),
  };
}

let cached: Promise<SchemaAsset> | undefined;

/** The shipped schema, read once and only when a manifest is checked. */
export function sparkApplicationSchema(): Promise<SchemaAsset> {
  cached ??= readFile(assetPath(...SCHEMA_ASSET), 'utf8').then((text) => JSON.parse(text) as SchemaAsset);
  return cached;
}

export interface SchemaProblem {
  path: string[];
  message: string;
  accepted?: string;
}

const typeName = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v;
const show = (v: unknown): string => (typeof v === 'string' ? `"${v}"` : (JSON.stringify(v) ?? String(v)));

function typeMatches(value: unknown, schema: Schema): boolean {
  if (schema['x-kubernetes-int-or-string']) return Number.isInteger(value) || typeof value === 'string';
  switch (schema.type) {
    case undefined:
      return true;
    case 'object':
      return value !== null && typeof value === 'object' && !Array.isArray(value);
    case 'array':
      return Array.isArray(value);
    case 'integer':
      return Number.isInteger(value);
    case 'number':
      return typeof value === 'number';
    default:
      return typeof value === schema.type;
  }
}

/** Bounds, enum, pattern and anyOf of one scalar value. */
function scalarProblems(value: unknown, schema: Schema, path: string[]): SchemaProblem[] {
  const problems: SchemaProblem[] = [];
  const add = (message: string, accepted: string): number => problems.push({ path, message, accepted });
  if (schema.enum && !schema.enum.includes(value)) {
    add(`Unsupported value: ${show(value)}`, schema.enum.map(String).join(', '));
  }
  if (typeof value === 'number') {
    const { minimum: min, maximum: max } = schema;
    const invalid = `Invalid value: ${value}: should be`;
    if (min !== undefined && value < min) add(`${invalid} greater than or equal to ${min}`, `${min} or more`);
    if (max !== undefined && value > max) add(`${invalid} less than or equal to ${max}`, `${max} or less`);
  }
  if (typeof value === 'string' && schema.pattern && !new RegExp(schema.pattern, 'u').test(value)) {
    add(`Invalid value: ${show(value)}: does not match ${schema.pattern}`, `a value matching ${schema.pattern}`);
  }
  if (schema.anyOf && !schema.anyOf.some((branch) => validateAgainst(value, branch, path).length === 0)) {
    add(`Invalid value: ${show(value)}`, schema.anyOf.map((b) => b.type ?? 'any').join(' or '));
  }
  return problems;
}

/**
 * Check a value against a structural schema as the API server does with strict field
 * validation: types, enums, required fields, bounds, patterns, and unknown fields.
 */
export function validateAgainst(value: unknown, schema: Schema, path: string[] = []): SchemaProblem[] {
  if (value === undefined) return [];
  if (value === null) {
    if (schema.nullable || !schema.type) return [];
    return [{ path, message: 'must not be null', accepted: `a value of type ${schema.type}` }];
  }
  if (!typeMatches(value, schema)) {
    const accepted = schema['x-kubernetes-int-or-string'] ? 'an integer or a string' : `a value of type ${schema.type}`;
    return [{ path, message: `Invalid type: ${show(value)} is ${typeName(value)}`, accepted }];
  }
  const problems = scalarProblems(value, schema, path);
  if (Array.isArray(value)) {
    const items = schema.items;
    if (items) value.forEach((item, i) => problems.push(...validateAgainst(item, items, [...path, String(i)])));
    return problems;
  }
  if (typeof value !== 'object') return problems;
  const object = value as Record<string, unknown>;
  for (const field of schema.required ?? []) {
    if (object[field] !== undefined) continue;
    problems.push({ path: [...path, field], message: 'Required value', accepted: `a value for ${field}` });
  }
  const extra = typeof schema.additionalProperties === 'object' ? schema.additionalProperties : undefined;
  const open = schema['x-kubernetes-preserve-unknown-fields'] || schema.additionalProperties === true;
  const closed = schema.properties && !open;
  for (const [key, child] of Object.entries(object)) {
    const sub = schema.properties?.[key] ?? extra;
    if (sub) problems.push(...validateAgainst(child, sub, [...path, key]));
    else if (closed) {
      const known = Object.keys(schema.properties!);
      const where = path.join('.') || 'the object';
      const many = `one of the ${known.length} fields of ${where} (see the CRD)`;
      const accepted = known.length <= 12 ? known.join(', ') : many;
      problems.push({ path: [...path, key], message: 'unknown field', accepted });
    }
  }
  return problems;
}
