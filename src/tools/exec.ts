import { existsSync } from 'node:fs';
import path from 'node:path';
import { KoalaError, InterruptedError } from '../util/errors.ts';
import { cacheHome } from '../util/paths.ts';
import { redact } from './redact.ts';

/** External programs koala shells out to. Everything else goes through the Kubernetes API. */
export type ToolName = 'kind' | 'helm' | 'docker' | 'kubectl';

export interface ToolCall {
  tool: ToolName;
  args: readonly string[];
  /** Sent on stdin: how configs and secrets reach a tool without showing up in `ps`. */
  input?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
  env?: Record<string, string>;
  cwd?: string;
  /** Exit codes that mean "answered" rather than "failed", e.g. 1 from `docker inspect` of nothing. */
  okExitCodes?: readonly number[];
  /** Called with each output line as it arrives (progress from long commands). */
  onLine?: (line: string) => void;
}

export interface ToolResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  durationMs: number;
}

type CommandLogger = (line: string) => void;
let commandLogger: CommandLogger | undefined;

/** `--verbose`: show each command (redacted) as it starts. */
export function setCommandLogger(logger: CommandLogger | undefined): void {
  commandLogger = logger;
}

const DEFAULT_TIMEOUT_MS = 2 * 60_000;
const STDERR_TAIL_LINES = 12;

/** Where `koala tools install` puts the pinned kind, helm and kubectl. */
export function toolsBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheHome(env), 'bin');
}

/**
 * Where each tool is found: KOALA_<TOOL> first (tests use it to pick helm 3 or 4), then the
 * pinned copy `koala tools install` fetched (the user asked for that version), then PATH.
 */
export function toolPath(tool: ToolName): string {
  const override = process.env[`KOALA_${tool.toUpperCase()}`];
  if (override) return override;
  if (tool !== 'docker') {
    const pinned = path.join(toolsBinDir(), tool);
    if (existsSync(pinned)) return pinned;
  }
  return tool;
}

export function formatCommand(tool: string, args: readonly string[]): string {
  return redact(
    [tool, ...args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`))].join(' '),
  );
}

/** Run a tool and capture its output. Failures become a ToolError with a stderr tail and a hint. */
export async function runTool(call: ToolCall): Promise<ToolResult> {
  const { execa } = await import('execa');
  const file = toolPath(call.tool);
  const timeoutMs = call.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  commandLogger?.(`$ ${formatCommand(call.tool, call.args)}`);
  const started = performance.now();
  const subprocess = execa(file, [...call.args], {
    reject: false,
    ...(call.input === undefined ? { stdin: 'ignore' as const } : { input: call.input }),
    timeout: timeoutMs,
    ...(call.signal ? { cancelSignal: call.signal } : {}),
    forceKillAfterDelay: 5_000,
    env: { ...call.env },
    extendEnv: true,
    ...(call.cwd ? { cwd: call.cwd } : {}),
    stripFinalNewline: true,
    encoding: 'utf8',
  });
  if (call.onLine) {
    const onLine = call.onLine;
    const forward = (chunk: Buffer | string): void => {
      for (const line of chunk.toString().split(/\r?\n/)) if (line.trim()) onLine(redact(line));
    };
    subprocess.stdout?.on('data', forward);
    subprocess.stderr?.on('data', forward);
  }
  const result = await subprocess;
  const durationMs = performance.now() - started;
  const stdout = String(result.stdout ?? '');
  const stderr = String(result.stderr ?? '');

  if (result.isCanceled || call.signal?.aborted) {
    // Ctrl-C or a step deadline; the step decides which, from its own signal.
    throw call.signal?.reason instanceof Error ? call.signal.reason : new InterruptedError();
  }
  if ('code' in result && result.code === 'ENOENT') {
    throw new ToolMissingError(call.tool, file);
  }
  if (result.timedOut) {
    throw new ToolError(
      call,
      { exitCode: -1, stdout, stderr, durationMs },
      `timed out after ${Math.round(timeoutMs / 1000)}s`,
    );
  }
  const exitCode = result.exitCode ?? -1;
  if (exitCode !== 0 && !(call.okExitCodes ?? []).includes(exitCode)) {
    throw new ToolError(call, { exitCode, stdout, stderr, durationMs });
  }
  return { exitCode, stdout, stderr, durationMs };
}

/** The tool is not installed (or KOALA_<TOOL> names nothing). */
export class ToolMissingError extends KoalaError {
  readonly tool: ToolName;

  constructor(tool: ToolName, file: string) {
    super(`${tool} was not found (looked for "${file}")`, {
      hint: `Install ${tool} and make sure it is on PATH; \`koala doctor\` checks every prerequisite.`,
    });
    this.name = 'ToolMissingError';
    this.tool = tool;
  }
}

export class ToolError extends KoalaError {
  readonly tool: ToolName;
  readonly result: ToolResult;
  readonly stderrTail: string;

  constructor(call: ToolCall, result: ToolResult, reason?: string) {
    const tail = redact(tailLines(result.stderr || result.stdout, STDERR_TAIL_LINES));
    const what = reason ?? `exited with code ${result.exitCode}`;
    super(`\`${formatCommand(call.tool, call.args)}\` ${what}${tail ? `:\n${indent(tail)}` : ''}`, {
      hint: hintFor(call.tool, result.stderr) ?? `Run it again with --verbose to see every command koala runs.`,
    });
    this.name = 'ToolError';
    this.tool = call.tool;
    this.result = result;
    this.stderrTail = tail;
  }
}

function tailLines(text: string, n: number): string {
  return text.trimEnd().split(/\r?\n/).slice(-n).join('\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/** Known failure messages of the tools, with what to do about them. */
const HINTS: Array<{ tool?: ToolName; match: RegExp; hint: string }> = [
  {
    tool: 'docker',
    match: /Cannot connect to the Docker daemon|docker daemon is not running|permission denied.*docker\.sock/i,
    hint: 'Start Docker (or add your user to the docker group), then run the command again.',
  },
  {
    tool: 'docker',
    match: /port is already allocated|address already in use/i,
    hint: 'Another program holds that port: stop it, or choose another port in koala.yaml.',
  },
  {
    tool: 'docker',
    match: /no space left on device/i,
    hint: 'Free disk space (`docker system prune`), then run the command again.',
  },
  {
    tool: 'kind',
    match: /node\(s\) already exist for a cluster with the name/i,
    hint: 'A cluster with this name exists: `koala up` reuses it when its spec matches, or `koala down` removes it.',
  },
  {
    tool: 'kind',
    match: /failed to create cluster|could not find a log line/i,
    hint:
      'kind could not start the nodes: ' +
      'check `docker info`, free memory and the inotify limits with `koala doctor`.',
  },
  {
    tool: 'helm',
    match: /another operation \(install\/upgrade\/rollback\) is in progress/i,
    hint: 'A previous Helm operation was interrupted: run `koala up` again; koala rolls the stuck release back first.',
  },
  {
    tool: 'helm',
    match: /context deadline exceeded|timed out waiting for the condition/i,
    hint: 'The release did not become ready in time: `koala status` shows which pods are not ready.',
  },
];

function hintFor(tool: ToolName, stderr: string): string | undefined {
  return HINTS.find((h) => (!h.tool || h.tool === tool) && h.match.test(stderr))?.hint;
}
