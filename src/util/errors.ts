/**
 * The error types koala reports to users. Every failure a user sees carries a hint: what to do next.
 * Commands turn these into exit codes; the core never exits the process itself.
 */

export const EXIT = {
  ok: 0,
  failure: 1,
  /** Bad input: a flag, koala.yaml or a manifest. Nothing was changed. */
  usage: 2,
  /** Interrupted by the user (Ctrl-C); the next run resumes. */
  interrupted: 130,
} as const;

export class KoalaError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; exitCode?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'KoalaError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? EXIT.failure;
  }
}

/** One problem in a configuration source, located as precisely as the source allows. */
export interface ConfigProblem {
  /** The file (or "flag --x" / "environment KOALA_X") the value came from. */
  source: string;
  line?: number;
  /** Dotted path of the field, e.g. "cluster.workers". */
  field: string;
  message: string;
  /** What would be accepted instead. */
  accepted?: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.source : `${p.source}:${p.line}`;
  const accepted = p.accepted ? ` (accepted: ${p.accepted})` : '';
  return `${where}: ${p.field}: ${p.message}${accepted}`;
}

/** Invalid configuration. Raised before anything changes, exit code 2. */
export class ConfigError extends KoalaError {
  readonly problems: ConfigProblem[];

  constructor(
    problems: ConfigProblem[],
    hint = 'Fix the values above and run the command again; nothing was changed.',
  ) {
    const head =
      problems.length === 1 ? 'Invalid configuration' : `Invalid configuration (${problems.length} problems)`;
    super(`${head}:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`, { hint, exitCode: EXIT.usage });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The user interrupted (Ctrl-C). */
export class InterruptedError extends KoalaError {
  constructor(what = 'Interrupted') {
    super(what, { hint: 'Run the same command again to resume where it stopped.', exitCode: EXIT.interrupted });
    this.name = 'InterruptedError';
  }
}

export function isAbortError(error: unknown): boolean {
  return error instanceof InterruptedError || (error instanceof Error && error.name === 'AbortError');
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
