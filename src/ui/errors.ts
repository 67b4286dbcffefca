import { KoalaError } from '../util/errors.ts';
import { redact } from '../tools/redact.ts';

/** An error as a user reads it: what happened, then what to do next. */
export function renderError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const hint =
    error instanceof KoalaError
      ? error.hint
      : 'This looks like a bug in koala: run again with --verbose and report the output.';
  return redact(`Error: ${message}${hint ? `\n→ ${hint}` : ''}`);
}
