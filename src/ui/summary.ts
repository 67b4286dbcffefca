import type { Endpoint } from '../components/component.ts';
import { formatDuration, type RunResult } from '../engine/runner.ts';
import type { StepStatus } from '../engine/step.ts';
import { errorMessage } from '../util/errors.ts';
import { redact } from '../tools/redact.ts';
import { statusWord } from './progress.ts';
import { table } from './table.ts';

export interface Summary {
  headline: string;
  result: RunResult;
  endpoints?: Endpoint[];
  next?: Array<[command: string, why: string]>;
  notes?: string[];
}

/** The end of `up` (and kin): what happened per step, how long it took, and what to do next. */
export function renderSummary(s: Summary): string {
  const out: string[] = [s.headline, ''];
  const rows = s.result.steps
    .filter((r) => r.status !== 'skipped')
    .map((r) => [
      r.id,
      statusWord(r),
      formatDuration(r.durationMs),
      r.error ? errorMessage(r.error).split('\n')[0]! : (r.detail ?? ''),
    ]);
  out.push(
    table(['STEP', 'RESULT', 'TIME', 'DETAIL'], rows)
      .split('\n')
      .map((l) => `  ${l}`)
      .join('\n'),
  );
  for (const r of s.result.steps.filter((x) => x.status === 'failed' && x.error)) {
    out.push(
      '',
      `${r.id} failed:`,
      ...errorMessage(r.error)
        .split('\n')
        .map((l) => `  ${l}`),
    );
    const hint = (r.error as { hint?: string }).hint;
    if (hint) out.push(`  → ${hint}`);
  }
  if (s.notes?.length) out.push('', ...s.notes.map((n) => `note: ${n}`));
  if (s.endpoints?.length) {
    out.push('', 'Endpoints');
    out.push(
      table(
        ['NAME', 'URL', 'REACH IT WITH', 'CREDENTIALS'],
        s.endpoints.map((e) => [e.name, e.url, e.portForward ?? '', e.credentials ?? '']),
      )
        .split('\n')
        .map((l) => `  ${l}`)
        .join('\n'),
    );
  }
  if (s.next?.length) {
    const width = Math.max(...s.next.map(([c]) => c.length));
    out.push('', 'Next', ...s.next.map(([c, why]) => `  ${c.padEnd(width)}   ${why}`));
  }
  return redact(out.join('\n'));
}

/** A plan's outcome as `up` and `down` print it with --json. */
export interface StepsJson {
  ok: boolean;
  interrupted: boolean;
  durationMs: number;
  steps: Array<{
    id: string;
    title: string;
    status: StepStatus;
    durationMs: number;
    detail?: string;
    error?: { message: string; hint?: string };
  }>;
}

/** Step results as JSON (errors as message and hint). */
export function resultJson(result: RunResult): StepsJson {
  return {
    ok: result.ok,
    interrupted: result.interrupted,
    durationMs: Math.round(result.durationMs),
    steps: result.steps.map((r) => ({
      id: r.id,
      title: r.title,
      status: r.status,
      durationMs: Math.round(r.durationMs),
      ...(r.detail ? { detail: r.detail } : {}),
      ...(r.error
        ? {
            error: {
              message: redact(errorMessage(r.error)),
              ...((r.error as { hint?: string }).hint ? { hint: (r.error as { hint?: string }).hint } : {}),
            },
          }
        : {}),
    })),
  };
}
