import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Document, LineCounter } from 'yaml';
import type { Manifest } from '../kube/client.ts';
import { ConfigError, EXIT, KoalaError, type ConfigProblem } from '../util/errors.ts';
import { SPARK_API_VERSION, SPARK_KIND, type SparkApplication } from './render.ts';
import { undeclaredMounts } from './references.ts';
import { sparkApplicationSchema, validateAgainst, type Schema } from './schema.ts';

export const SCHEDULED_KIND = 'ScheduledSparkApplication';
/** Kinds `run -f` applies beside the SparkApplication, in the run's namespace. */
export const COMPANION_KINDS = ['ConfigMap', 'Secret'] as const;

/** What `koala run -f <file>` runs: one SparkApplication, and the ConfigMaps and Secrets beside it. */
export interface ManifestSource {
  /** The absolute path: runs of different files never share a history. */
  file: string;
  app: SparkApplication;
  companions: Manifest[];
  /** One line each: what koala does differently from what the file says. */
  notices: string[];
}

interface Doc {
  index: number;
  line: number;
  value: Record<string, unknown>;
  lineOf(path: readonly string[]): number;
}

const ACCEPTED_KINDS =
  `a ${SPARK_KIND} (or a ${SCHEDULED_KIND}, whose template runs once), ` + 'with ConfigMaps and Secrets it uses';
const RUN_NAME = /^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$/;
const OBJECT_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/**
 * Read and check a manifest file without a cluster: YAML syntax (at the line the parser
 * stopped), the kinds in it, the run name, and the SparkApplication against the pinned CRD
 * schema. Every problem names the file, line and field; nothing is submitted.
 */
export async function loadManifestFile(file: string): Promise<ManifestSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    const hint = 'Give the path of a SparkApplication YAML file.';
    throw new KoalaError(`Cannot read ${file}`, { exitCode: EXIT.usage, hint });
  }
  const hint = `Fix ${file} and run again; nothing was submitted.`;
  const at = (line: number | undefined, field: string, message: string, accepted: string): ConfigProblem => ({
    source: file,
    ...(line === undefined ? {} : { line }),
    field,
    message,
    accepted,
  });
  const problem = (...args: Parameters<typeof at>): ConfigError => new ConfigError([at(...args)], hint);
  const docs = await parseDocs(file, text, hint);
  if (docs.length === 0) throw problem(undefined, '(file)', 'is empty: it holds no YAML document', ACCEPTED_KINDS);

  const label = (d: Doc): string => {
    const name = (d.value.metadata as { name?: unknown } | undefined)?.name;
    return `${String(d.value.kind ?? '(no kind)')} ${String(name ?? '(no name)')} (line ${d.line})`;
  };
  const runnable = docs.filter((d) => d.value.kind === SPARK_KIND || d.value.kind === SCHEDULED_KIND);
  const isCompanion = (d: Doc): boolean =>
    d.value.apiVersion === 'v1' && (COMPANION_KINDS as readonly unknown[]).includes(d.value.kind);
  const companions = docs.filter(isCompanion);
  const others = docs.filter((d) => !runnable.includes(d) && !companions.includes(d));
  if (runnable.length === 0) {
    const found = `no ${SPARK_KIND} in the file (found: ${docs.map(label).join(', ')})`;
    throw problem(docs[0]!.line, 'kind', found, ACCEPTED_KINDS);
  }
  if (runnable.length > 1) {
    const found = `${runnable.length} runnable documents (${runnable.map(label).join(', ')}); a run is one app`;
    throw problem(runnable[1]!.line, 'kind', found, `one ${SPARK_KIND} per file: split the file`);
  }
  if (others.length) {
    throw new ConfigError(
      others.map((d) => at(d.line, 'kind', `${label(d)} would be left out: run -f does not apply it`, ACCEPTED_KINDS)),
      `Apply those objects yourself (kubectl apply -f) and keep only the app, its ConfigMaps and Secrets in ` +
        `${path.basename(file)}; nothing was submitted.`,
    );
  }

  const doc = runnable[0]!;
  const notices: string[] = [];
  const { schema, apiVersion } = await sparkApplicationSchema();
  let app: SparkApplication;
  let specPath: string[];
  if (doc.value.kind === SCHEDULED_KIND) {
    type Scheduled = { metadata?: Record<string, unknown>; spec?: { schedule?: unknown; template?: unknown } };
    const scheduled = doc.value as Scheduled;
    specPath = ['spec', 'template'];
    const template = scheduled.spec?.template;
    if (template === null || typeof template !== 'object') {
      throw problem(doc.lineOf(['spec']), 'spec.template', 'is missing', `the ${SPARK_KIND} spec to run`);
    }
    const metadata = { ...(scheduled.metadata ?? {}) } as SparkApplication['metadata'];
    const spec = template as SparkApplication['spec'];
    app = { apiVersion: doc.value.apiVersion as string, kind: SPARK_KIND, metadata, spec };
    const schedule = typeof scheduled.spec?.schedule === 'string' ? ` ("${scheduled.spec.schedule}")` : '';
    notices.push(
      `${SCHEDULED_KIND} ${String(metadata.name)}: koala does not run schedules yet${schedule}; ` +
        'running its template once now (kubectl apply -f lets the operator schedule it)',
    );
  } else {
    specPath = ['spec'];
    app = doc.value as unknown as SparkApplication;
  }

  if (app.apiVersion !== SPARK_API_VERSION && app.apiVersion !== apiVersion) {
    const message = `"${String(app.apiVersion)}" is not served by the operator`;
    throw problem(doc.lineOf(['apiVersion']), 'apiVersion', message, SPARK_API_VERSION);
  }
  const name = app.metadata?.name;
  if (typeof name !== 'string' || !RUN_NAME.test(name)) {
    const accepted = 'a DNS name of at most 42 characters (no templates like {{ ds }}); koala adds -<n> per run';
    throw problem(doc.lineOf(['metadata', 'name']), 'metadata.name', `"${String(name)}" cannot name runs`, accepted);
  }
  const specSchema: Schema = { ...(schema.properties?.spec ?? {}), nullable: false, type: 'object' };
  const problems: ConfigProblem[] = validateAgainst(app.spec, specSchema, specPath).map((p) => ({
    source: file,
    line: doc.lineOf(p.path),
    field: p.path.join('.'),
    message: p.message,
    ...(p.accepted ? { accepted: p.accepted } : {}),
  }));
  if (app.spec === undefined) problems.unshift(at(doc.line, specPath.join('.'), 'is missing', `a ${SPARK_KIND} spec`));
  for (const mount of undeclaredMounts(obj(app.spec), specPath)) {
    const message = `volume "${mount.name}" is not declared in ${specPath.join('.')}.volumes`;
    problems.push(at(doc.lineOf(mount.path), mount.path.join('.'), message, 'the name of a volume in spec.volumes'));
  }
  for (const c of companions) {
    const cName = (c.value.metadata as { name?: unknown } | undefined)?.name;
    if (typeof cName !== 'string' || !OBJECT_NAME.test(cName)) {
      const field = `${String(c.value.kind)}.metadata.name`;
      const message = `"${String(cName)}" is not a valid name`;
      problems.push(at(c.lineOf(['metadata', 'name']), field, message, 'a DNS subdomain name'));
    }
  }
  if (problems.length) {
    const against = `(checked against the ${SPARK_KIND} schema of the spark-operator chart koala installs)`;
    throw new ConfigError(problems, `${hint} ${against}`);
  }
  return { file: path.resolve(file), app, companions: companions.map((c) => c.value as Manifest), notices };
}

/** The documents of a file with their lines; syntax errors at the line where the parser stopped. */
async function parseDocs(file: string, text: string, hint: string): Promise<Doc[]> {
  const { parseAllDocuments, LineCounter: Counter } = await import('yaml');
  const counter = new Counter();
  // An empty stream is an empty array: the caller reports "empty", with the other kinds of nothing.
  const all = [...parseAllDocuments(text, { lineCounter: counter, prettyErrors: false })] as Document[];
  const errors = all.flatMap((d) => d.errors);
  if (errors.length) {
    throw new ConfigError(
      errors.slice(0, 3).map((e) => ({
        source: file,
        line: counter.linePos(e.pos[0]).line,
        field: '(syntax)',
        message: e.message.split('\n')[0]!,
        accepted: 'valid YAML',
      })),
      hint,
    );
  }
  const docs: Doc[] = [];
  for (const [index, doc] of all.entries()) {
    const value = doc.contents === null ? null : (doc.toJS() as unknown);
    if (value === null) continue; // only comments, or nothing between two ---
    const line = lineAt(counter, doc.contents?.range?.[0]) ?? 1;
    if (typeof value !== 'object' || Array.isArray(value)) {
      const accepted = 'a mapping with apiVersion, kind, metadata';
      const field = `(document ${index + 1})`;
      throw new ConfigError([{ source: file, line, field, message: 'is not a Kubernetes object', accepted }], hint);
    }
    const lineOf = (p: readonly string[]): number => lineOfPath(doc, counter, p) ?? line;
    docs.push({ index, line, value: value as Record<string, unknown>, lineOf });
  }
  return docs;
}

function obj(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function lineAt(counter: LineCounter, offset: number | undefined): number | undefined {
  return offset === undefined ? undefined : counter.linePos(offset).line;
}

/** The line of the field at `path`, or of its nearest parent that exists. */
function lineOfPath(doc: Document, counter: LineCounter, path: readonly string[]): number | undefined {
  let node: unknown = doc.contents;
  let line = lineAt(counter, (node as { range?: [number] } | null)?.range?.[0]);
  for (const key of path) {
    const items = (node as { items?: unknown[] } | null)?.items;
    if (!Array.isArray(items)) return line;
    let next: unknown;
    let at: number | undefined;
    if (items.every((i) => i !== null && typeof i === 'object' && 'key' in i)) {
      type Pair = { key: { value?: unknown; range?: [number] } | null; value: unknown };
      const pair = (items as Pair[]).find((p) => String(p.key?.value) === key);
      next = pair?.value;
      at = pair?.key?.range?.[0];
    } else {
      next = items[Number(key)];
      at = (next as { range?: [number] } | undefined)?.range?.[0];
    }
    if (next === undefined) return line;
    line = lineAt(counter, at) ?? line;
    node = next;
  }
  return line;
}
