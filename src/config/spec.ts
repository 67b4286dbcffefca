/**
 * A small declarative schema for koala's configuration. It exists (rather than a JSON Schema
 * library) because every error must name the source, the line, the field and what is accepted,
 * in words a user understands; the validator below produces exactly that and nothing more.
 */
export type FieldSpec =
  | { type: 'string'; pattern?: RegExp; accepted?: string; doc?: string }
  | { type: 'int'; min?: number; max?: number; oneOf?: readonly number[]; doc?: string }
  | { type: 'bool'; doc?: string }
  | { type: 'enum'; values: readonly string[]; doc?: string }
  | { type: 'list'; of: FieldSpec; minItems?: number; doc?: string }
  | { type: 'object'; fields: Record<string, FieldSpec>; doc?: string }
  | { type: 'map'; of: FieldSpec; key?: { pattern: RegExp; accepted: string }; doc?: string }
  /** Free-form data handed to another tool (Helm values). */
  | { type: 'any'; doc?: string };

export interface Problem {
  path: string[];
  message: string;
  accepted?: string;
}

function describe(spec: FieldSpec): string {
  switch (spec.type) {
    case 'string':
      return spec.accepted ?? 'a string';
    case 'int':
      if (spec.oneOf)
        return `${spec.oneOf.slice(0, -1).join(', ')} or ${spec.oneOf.at(-1)}${spec.doc ? ` (${spec.doc})` : ''}`;
      return spec.min !== undefined && spec.max !== undefined
        ? `a whole number from ${spec.min} to ${spec.max}`
        : spec.min !== undefined
          ? `a whole number >= ${spec.min}`
          : 'a whole number';
    case 'bool':
      return 'true or false';
    case 'enum':
      return spec.values.join(', ');
    case 'list':
      return `a list of ${describe(spec.of)}`;
    case 'object':
      return `a mapping with keys ${Object.keys(spec.fields).join(', ')}`;
    case 'map':
      return 'a mapping';
    case 'any':
      return 'any value';
  }
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `"${value}"`;
  return String(value);
}

/** Check a value against its spec; returns every problem found, not just the first. */
export function validateValue(value: unknown, spec: FieldSpec, path: string[] = []): Problem[] {
  const bad = (message: string): Problem[] => [{ path, message, accepted: describe(spec) }];
  switch (spec.type) {
    case 'any':
      return [];
    case 'string':
      if (typeof value !== 'string') return bad(`expected ${describe(spec)}, got ${typeName(value)}`);
      if (spec.pattern && !spec.pattern.test(value)) return bad(`"${value}" is not valid`);
      return [];
    case 'int':
      if (typeof value !== 'number' || !Number.isInteger(value))
        return bad(`expected a whole number, got ${typeName(value)}`);
      if (spec.oneOf && !spec.oneOf.includes(value)) return bad(`${value} is not allowed`);
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max))
        return bad(`${value} is out of range`);
      return [];
    case 'bool':
      return typeof value === 'boolean' ? [] : bad(`expected true or false, got ${typeName(value)}`);
    case 'enum':
      return typeof value === 'string' && spec.values.includes(value)
        ? []
        : bad(`${typeName(value)} is not one of the accepted values`);
    case 'list': {
      if (!Array.isArray(value)) return bad(`expected a list, got ${typeName(value)}`);
      if (spec.minItems !== undefined && value.length < spec.minItems)
        return bad(`needs at least ${spec.minItems} item(s)`);
      return value.flatMap((item, i) => validateValue(item, spec.of, [...path, String(i)]));
    }
    case 'map': {
      if (!isPlainObject(value)) return bad(`expected a mapping, got ${typeName(value)}`);
      return Object.entries(value).flatMap(([k, v]) => {
        if (spec.key && !spec.key.pattern.test(k))
          return [{ path: [...path, k], message: `"${k}" is not a valid key`, accepted: spec.key.accepted }];
        return validateValue(v, spec.of, [...path, k]);
      });
    }
    case 'object': {
      if (!isPlainObject(value)) return bad(`expected a mapping, got ${typeName(value)}`);
      const known = Object.keys(spec.fields);
      return Object.entries(value).flatMap(([k, v]) => {
        const field = spec.fields[k];
        if (!field) {
          const near = closest(k, known);
          return [
            {
              path: [...path, k],
              message: `unknown field${near ? ` (did you mean "${near}"?)` : ''}`,
              accepted: known.join(', '),
            },
          ];
        }
        return validateValue(v, field, [...path, k]);
      });
    }
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The nearest known name within two edits, for "did you mean". */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const name of candidates) {
    const distance = editDistance(word.toLowerCase(), name.toLowerCase());
    if (distance <= 2 && (!best || distance < best.distance)) best = { name, distance };
  }
  return best?.name;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}
