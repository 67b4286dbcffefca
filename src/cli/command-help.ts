/**
 * `koala <command> --help` without loading oclif: the page is rendered from oclif.manifest.json
 * exactly as oclif's CommandHelp lays it out (a test compares the two for every command, at
 * several widths, with and without colour). Loading oclif costs more than Node's own start-up.
 * A command that uses a help feature this renderer does not know gets undefined, and bin/run.js
 * hands it to oclif.
 */
import { readFileSync } from 'node:fs';
import { printSync, terminal } from './help-color.ts';
import { wrapPlain } from './wrap.ts';

export interface ManifestFlag {
  name: string;
  type: 'boolean' | 'option';
  char?: string;
  summary?: string;
  description?: string;
  helpGroup?: string;
  helpLabel?: string;
  helpValue?: string | string[];
  options?: string[];
  default?: unknown;
  env?: string;
  allowNo?: boolean;
  hidden?: boolean;
  required?: boolean;
  multiple?: boolean;
  noCacheDefault?: boolean;
  dependsOn?: unknown;
  exclusive?: unknown;
  combinable?: unknown;
  relationships?: unknown;
  deprecated?: unknown;
}

export interface ManifestArg {
  name: string;
  description?: string;
  required?: boolean;
  options?: string[];
  default?: unknown;
  hidden?: boolean;
  multiple?: boolean;
}

export interface ManifestCommand {
  id: string;
  summary?: string;
  description?: string;
  examples?: Array<string | { description: string; command: string }>;
  flags?: Record<string, ManifestFlag>;
  args?: Record<string, ManifestArg>;
  aliases?: string[];
  hiddenAliases?: string[];
  usage?: unknown;
  state?: string;
  deprecationOptions?: unknown;
  deprecateAliases?: boolean;
  hasDynamicHelp?: boolean;
  strict?: boolean;
  hidden?: boolean;
}

export interface HelpStyle {
  width: number;
  /** Whether oclif would colour its output (then headers are bold and flag values underlined). */
  color: boolean;
}

const INDENT = 2;

/** The page oclif prints for `<bin> <command> --help`, or undefined when only oclif can render it. */
export function renderCommandHelp(bin: string, command: ManifestCommand, style: HelpStyle): string | undefined {
  if (!supported(command)) return undefined;
  const id = command.id.replaceAll(':', ' ');
  const { width } = style;
  const bold = (s: string): string => (style.color ? `${ESC}[1m${s}${ESC}[22m` : s);
  const underline = (s: string): string => (style.color ? `${ESC}[4m${s}${ESC}[24m` : s);
  const render = (s: string): string => s.replaceAll('<%= config.bin %>', bin).replaceAll('<%= command.id %>', id);
  const wrap = (s: string, spacing = INDENT): string => wrapPlain(render(s), width - spacing);
  const section = (header: string, body: string | Array<[string, string | undefined]>): string =>
    `${bold(header)}\n${indent(
      typeof body === 'string'
        ? render(body)
        : renderList(
            body.map(([l, r]) => [render(l), r && render(r)]),
            width,
            wrap,
          ),
      INDENT,
    )}`;

  const declared = Object.entries(command.flags ?? {})
    .filter(([, f]) => !f.hidden)
    .map(([name, f]) => ({ ...f, name }));
  // USAGE lists flags as declared; the FLAGS sections sort them (short names first).
  const flags = sortBy([...declared], (f) => [!f.char, f.char, f.name]);
  const args = Object.values(command.args ?? {}).filter((a) => !a.hidden);
  const out: string[] = [section('USAGE', usage(bin, command, declared, args, width, wrap))];

  if (args.some((a) => a.description)) {
    const rows = args.map((a): [string, string | undefined] => {
      const name = `${a.name.toUpperCase()}${a.multiple || command.strict === false ? '...' : ''}`;
      let description = a.description ?? '';
      if (a.default) description = `[default: ${String(a.default)}] ${description}`;
      if (a.options) description = `(${a.options.join('|')}) ${description}`;
      return [a.required ? name : `[${name}]`, description || undefined];
    });
    out.push(section('ARGUMENTS', rows));
  }

  const groups = new Map<string, ManifestFlag[]>([['', []]]);
  for (const f of flags) groups.set(f.helpGroup ?? '', [...(groups.get(f.helpGroup ?? '') ?? []), f]);
  for (const [group, members] of groups) {
    if (members.length > 0)
      out.push(section(group ? `${group.toUpperCase()} FLAGS` : 'FLAGS', flagRows(members, underline)));
  }

  if (command.description) {
    const lines = [
      ...(command.summary ? `${command.summary}\n`.split(/\r\n|\n/) : []),
      ...command.description.split(/\r\n|\n/),
    ];
    out.push(section('DESCRIPTION', wrap(lines.join('\n'))));
  }
  const examples = examplesBody(bin, command.examples ?? [], render, wrap);
  if (examples) out.push(section('EXAMPLES', examples));

  const summary = command.summary
    ? render(command.summary.split('\n', 1)[0]!)
    : command.description && render(command.description).split('\n', 1)[0];
  return `${summary ? `${summary}\n\n` : ''}${out.join('\n\n')}\n\n`;
}

/** What the renderer knows: everything koala's commands use. Anything else is oclif's to render. */
function supported(c: ManifestCommand): boolean {
  const flags = Object.values(c.flags ?? {});
  const text = [
    c.summary,
    c.description,
    ...(c.examples ?? []).map((e) => (typeof e === 'string' ? e : `${e.description}\n${e.command}`)),
    ...flags.flatMap((f) => [f.description, f.helpValue, ...(f.options ?? [])].flat()),
    ...Object.values(c.args ?? {}).flatMap((a) => [a.description, ...(a.options ?? [])]),
  ].join('\n');
  return (
    c.usage === undefined &&
    !c.state &&
    !c.deprecationOptions &&
    !c.deprecateAliases &&
    !c.hasDynamicHelp &&
    (c.aliases ?? []).length === 0 &&
    flags.every(
      (f) => !f.summary && !f.dependsOn && !f.exclusive && !f.combinable && !f.relationships && !f.deprecated,
    ) &&
    // Plain ASCII without templates beyond config.bin and command.id: what a greedy wrap renders exactly.
    /^[\x20-\x7e\n]*$/.test(text) &&
    !/<%(?!= (config\.bin|command\.id) %>)/.test(text)
  );
}

function usage(
  bin: string,
  c: ManifestCommand,
  flags: ManifestFlag[],
  args: ManifestArg[],
  width: number,
  wrap: (s: string, spacing?: number) => string,
): string {
  // oclif's docopts: required flags first, then optional ones in brackets.
  const element = (f: ManifestFlag): string =>
    `${f.char ? `-${f.char}` : `--${f.name}`}${f.type === 'option' ? ` ${usageType(f, true)}` : ''}`;
  const parts = [
    ...args
      .map((a) => `${a.name.toUpperCase()}${a.multiple || c.strict === false ? '...' : ''}`)
      .map((n, i) => (args[i]!.required ? n : `[${n}]`)),
    ...flags.filter((f) => f.required).map(element),
    ...flags.filter((f) => !f.required).map((f) => `[${element(f)}]`),
  ];
  // Measured before `<%= command.id %>` is rendered, as oclif measures it.
  const line = `$ ${bin} <%= command.id %> ${parts.join(' ')}`.trim();
  const allowed = width - INDENT;
  if (line.length > allowed) {
    const split = line.slice(0, Math.max(0, allowed)).lastIndexOf(' ');
    return `${line.slice(0, Math.max(0, split))}\n${indent(wrap(line.slice(Math.max(0, split)), INDENT * 2), INDENT)}`;
  }
  return wrap(line);
}

function usageType(f: ManifestFlag, showOptions: boolean): string {
  const values = f.helpValue
    ? typeof f.helpValue === 'string'
      ? [f.helpValue]
      : f.helpValue
    : f.options
      ? [showOptions ? f.options.join('|') : '<option>']
      : ['<value>'];
  return values.map((v) => `${v}${f.multiple ? '...' : ''}`).join(' ');
}

function flagRows(flags: ManifestFlag[], underline: (s: string) => string): Array<[string, string]> {
  const noChar = flags.every((f) => f.char === undefined);
  return flags.map((f) => {
    let left =
      f.helpLabel ??
      [f.char ? `-${f.char[0]}` : '  ', `--${f.type === 'boolean' && f.allowNo ? '[no-]' : ''}${f.name.trim()}`].join(
        f.char ? ', ' : '  ',
      );
    if (f.type === 'option') {
      const value = usageType(f, false);
      left += `=${value.includes('|') ? value : underline(value)}`;
    }
    if (noChar) left = left.replace('    ', '');
    let right = f.description ?? '';
    const meta = [
      ...(f.type === 'option' && f.default && !f.noCacheDefault ? [`default: ${String(f.default)}`] : []),
      ...(f.env ? [`env: ${f.env}`] : []),
    ];
    if (meta.length > 0) right = `[${meta.join(', ')}] ${right}`;
    if (f.required) right = `(required) ${right}`;
    if (f.type === 'option' && f.options && !f.helpValue) right += `\n<options: ${f.options.join('|')}>`;
    return [left, right.trim()];
  });
}

function examplesBody(
  bin: string,
  examples: NonNullable<ManifestCommand['examples']>,
  render: (s: string) => string,
  wrap: (s: string, spacing?: number) => string,
): string | undefined {
  if (examples.length === 0) return undefined;
  const formatIfCommand = (example: string): string => {
    const e = render(example);
    return e.startsWith(bin) ? `$ ${e}` : e;
  };
  const isCommand = (e: string): boolean => formatIfCommand(e).startsWith(`$ ${bin}`);
  return examples
    .map((a) => {
      let description: string;
      let commands: string[];
      if (typeof a === 'string') {
        const lines = a.split(/\r\n|\n/).filter(Boolean);
        if (!(lines.length >= 2 && !isCommand(lines[0]!) && lines.slice(1).every(isCommand)))
          return lines.map(formatIfCommand).join('\n');
        description = lines[0]!;
        commands = lines.slice(1);
      } else {
        description = a.description;
        commands = [a.command];
      }
      const body = commands
        .map((c) =>
          indent(wrap(formatIfCommand(c), INDENT * 2 + 4), INDENT)
            .split(/\r\n|\n/)
            .join(' \\\n  '),
        )
        .join('\n');
      return `${wrap(description, INDENT * 2)}\n\n${body}`;
    })
    .join('\n\n');
}

const ESC = String.fromCharCode(27);
const ANSI = new RegExp(`${ESC}\\[[0-9;]*m`, 'g');
const visible = (s: string): number => s.replace(ANSI, '').length;

/** oclif's renderList: two columns, or one entry under the other when a description wraps a lot. */
function renderList(
  rows: Array<[string, string | undefined]>,
  width: number,
  wrap: (s: string, spacing?: number) => string,
): string {
  const indentation = INDENT;
  const multiline = (): string => {
    let output = '';
    for (const [left, right] of rows) {
      if (!left && !right) continue;
      if (left) output += wrapAnsiSafe(left.trim(), width - indentation);
      if (right) output += `\n${indent(wrap(right.trim(), indentation + 2), 4)}`;
      output += '\n\n';
    }
    return output.trim();
  };
  const widest = Math.max(...rows.map(([left]) => visible(left)));
  let output = '';
  let current = '';
  for (const [left, right] of rows) {
    if (current) output += `\n${current}`;
    current = left;
    if (!right) {
      current = current.trim();
      continue;
    }
    const [first, ...lines] = wrap(right.trim(), indentation + widest + 2)
      .split('\n')
      .map((s) => s.trim());
    current += ' '.repeat(widest - visible(current) + 2) + first;
    if (lines.length === 0) continue;
    if (lines.length > 4) return multiline();
    current += `\n${indent(lines.join('\n'), widest + 2)}`;
  }
  if (current) output += `\n${current}`;
  return output.trim();
}

/** A flag label in the one-column layout: fits the width (or was already refused by wrapPlain's rules). */
function wrapAnsiSafe(text: string, width: number): string {
  if (visible(text) <= width) return text;
  if (text.includes(ESC)) throw new Error('a coloured flag label wider than the terminal'); // caught: oclif renders it
  return wrapPlain(text, width);
}

function indent(text: string, spaces: number): string {
  return text.replace(/^(?!\s*$)/gm, ' '.repeat(spaces));
}

type Key = boolean | string | undefined;
function compare(a: Key | Key[], b: Key | Key[]): number {
  const x = a === undefined ? 0 : a;
  const y = b === undefined ? 0 : b;
  if (Array.isArray(x) && Array.isArray(y)) {
    if (x.length === 0 && y.length === 0) return 0;
    return compare(x[0], y[0]) || compare(x.slice(1), y.slice(1));
  }
  return x < y ? -1 : x > y ? 1 : 0;
}
function sortBy<T>(items: T[], key: (item: T) => Key[]): T[] {
  return items.sort((a, b) => compare(key(a), key(b)));
}

/** For bin/run.js: print the page and return true, or return false to let oclif answer. */
export function printCommandHelp(root: URL, words: string[]): boolean {
  const manifest = JSON.parse(readFileSync(new URL('oclif.manifest.json', root), 'utf8')) as {
    commands: Record<string, ManifestCommand>;
  };
  const command = manifest.commands[words.join(':')];
  if (!command || command.hidden) return false;
  const { bin } = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { oclif: { bin: string } }).oclif;
  let page: string | undefined;
  try {
    page = renderCommandHelp(bin, command, terminal(process.env));
  } catch {
    return false;
  }
  if (page === undefined) return false;
  printSync(page);
  return true;
}
