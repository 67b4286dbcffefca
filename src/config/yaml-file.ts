import type { ConfigProblem } from '../util/errors.ts';

/** A parsed YAML file that can tell which line a field is on. */
export interface LocatedYaml {
  file: string;
  value: unknown;
  /** The line of the field at `path`, or of its nearest parent that exists. */
  lineOf(path: readonly string[]): number | undefined;
}

/**
 * Parse YAML keeping positions (the `yaml` package, because js-yaml does not expose node
 * positions after parsing). Syntax errors come back as problems, never as exceptions.
 */
export async function parseLocatedYaml(
  file: string,
  text: string,
): Promise<{ yaml?: LocatedYaml; problems: ConfigProblem[] }> {
  const { parseDocument, LineCounter, isMap, isSeq, isScalar, isPair } = await import('yaml');
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => ({
        source: file,
        line: lineCounter.linePos(e.pos[0]).line,
        field: '(syntax)',
        message: e.message.split('\n')[0] ?? e.message,
        accepted: 'valid YAML',
      })),
    };
  }
  const lineAt = (offset: number | undefined): number | undefined =>
    offset === undefined ? undefined : lineCounter.linePos(offset).line;

  const lineOf = (path: readonly string[]): number | undefined => {
    let node: unknown = doc.contents;
    let line = lineAt((doc.contents as { range?: [number] } | null)?.range?.[0]);
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === key);
        if (!pair) return line;
        line = lineAt((pair.key as { range?: [number] }).range?.[0]) ?? line;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(key)];
        if (!item) return line;
        line = lineAt((item as { range?: [number] }).range?.[0]) ?? line;
        node = item;
      } else {
        return line;
      }
    }
    return line;
  };
  return { yaml: { file, value: doc.toJS() ?? {}, lineOf }, problems: [] };
}
