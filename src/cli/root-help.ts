/**
 * `koala --help` (and `koala` alone) without loading oclif: the root help is plain data from
 * package.json and oclif.manifest.json, laid out exactly as oclif's Help lays it out (a test
 * compares the two). Loading oclif costs more than Node's own start-up; this page is what new
 * users see first, so it is worth the fast path. Every other help page is oclif's own.
 */
import { readFileSync } from 'node:fs';
import { printSync, terminal } from './help-color.ts';
import { wrapPlain } from './wrap.ts';

interface Manifest {
  commands: Record<string, { id: string; summary?: string; description?: string; hidden?: boolean }>;
}

interface PackageJson {
  version: string;
  description?: string;
  oclif: { bin: string; description?: string; topics?: Record<string, { description?: string; hidden?: boolean }> };
}

export function renderRootHelp(pjson: PackageJson, manifest: Manifest, width: number, color = false): string {
  const bin = pjson.oclif.bin;
  const description = pjson.oclif.description ?? pjson.description ?? '';
  const bold = (s: string): string => (color ? `\u001b[1m${s}\u001b[22m` : s);
  const section = (header: string, body: string): string => `${bold(header)}\n${indent(body, 2)}`;
  const wrap = (text: string, spacing: number): string => wrapPlain(text, width - spacing);
  const userAgent = `${bin}/${pjson.version} ${process.platform}-${process.arch} node-${process.version}`;
  const rest = description.split('\n').slice(1).join('\n');
  const root = [
    description.split('\n', 1)[0] ?? '',
    section('VERSION', wrap(userAgent, 2)),
    section('USAGE', wrap(`$ ${bin} [COMMAND]`, 2)),
    ...(rest ? [section('DESCRIPTION', wrap(rest, 2))] : []),
  ].join('\n\n');

  const commands = Object.values(manifest.commands).filter((c) => !c.hidden);
  const topicNames = new Set(Object.keys(pjson.oclif.topics ?? {}).filter((t) => !pjson.oclif.topics?.[t]?.hidden));
  for (const c of commands) if (c.id.includes(':')) topicNames.add(c.id.split(':')[0]!);
  const topics = [...topicNames]
    .filter((t) => !t.includes(':'))
    .sort()
    .map((name) => [name, (pjson.oclif.topics?.[name]?.description ?? '').split('\n', 1)[0] ?? ''] as const);
  // Plain comparison, as oclif sorts; localeCompare would start ICU (about 10 ms).
  const rootCommands = commands
    .filter((c) => !c.id.includes(':'))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((c) => [c.id, (c.summary ?? c.description ?? '').split('\n', 1)[0] ?? ''] as const);

  const out = [root, ''];
  if (topics.length > 0) out.push(section('TOPICS', renderList(topics, width)), '');
  if (rootCommands.length > 0) out.push(section('COMMANDS', renderList(rootCommands, width)), '');
  return `${out.join('\n')}\n`;
}

/** oclif's two-column list: names padded to the widest, descriptions wrapped beside them. */
function renderList(rows: ReadonlyArray<readonly [string, string]>, width: number): string {
  const widest = Math.max(...rows.map(([left]) => left.length));
  // oclif puts each description under its name when one would wrap past five lines beside it.
  const tooLong = rows.some(
    ([, right]) => right && wrapPlain(right.trim(), width - (2 + widest + 2)).split('\n').length > 5,
  );
  if (tooLong) {
    return rows
      .map(
        ([left, right]) =>
          `${wrapPlain(left.trim(), width - 2)}${right ? `\n${indent(wrapPlain(right.trim(), width - 4), 4)}` : ''}`,
      )
      .join('\n\n');
  }
  return rows
    .map(([left, right]) => {
      if (!right) return left;
      const [first, ...more] = wrapPlain(right.trim(), width - (2 + widest + 2))
        .split('\n')
        .map((s) => s.trim());
      const line = `${left}${' '.repeat(widest - left.length + 2)}${first}`;
      return more.length === 0 ? line : `${line}\n${indent(more.join('\n'), widest + 2)}`;
    })
    .join('\n');
}

function indent(text: string, spaces: number): string {
  return text
    .split('\n')
    .map((l) => (l ? ' '.repeat(spaces) + l : l))
    .join('\n');
}

export function printRootHelp(root: URL): void {
  const pjson = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as PackageJson;
  const manifest = JSON.parse(readFileSync(new URL('oclif.manifest.json', root), 'utf8')) as Manifest;
  const { width, color } = terminal(process.env);
  printSync(renderRootHelp(pjson, manifest, width, color));
}
