import type { BatchStatus, RunRecord } from '../pipelines/batch-run.ts';
import { table } from './table.ts';

/** A batch pipeline: its schedule, then one line per run (newest first). */
export function renderBatchStatus(status: BatchStatus): string {
  const schedule = status.expired
    ? `expired at ${status.expire}`
    : status.suspended
      ? `stopped (schedule ${status.schedule})`
      : `schedule ${status.schedule}${status.expire ? `, until ${status.expire}` : ''}`;
  const head = `Pipeline ${status.name} (namespace ${status.namespace}, batch): ${schedule}`;
  if (status.runs.length === 0) return `${head}\n\nNo run yet. \`koala pipelines run ${status.name}\` starts one.`;
  const rows = status.runs.map((r) => [r.run, r.trigger, r.state, r.start ?? '-', r.end ?? '-', failedStep(r)]);
  return `${head}\n\n${table(['RUN', 'TRIGGER', 'STATE', 'START', 'END', 'FAILED STEP'], rows)}`;
}

function failedStep(run: RunRecord): string {
  const step = run.steps.find((s) => s.state === 'failed');
  if (step) return `${step.name}: ${step.reason ?? ''}`;
  return run.reason ?? '';
}

/** Every run with each step's state, attempts and failure reasons. */
export function renderHistory(status: BatchStatus): string {
  if (status.runs.length === 0) return renderBatchStatus(status);
  const blocks = status.runs.map((r) => {
    const title =
      `${r.run}  ${r.state}  (${r.trigger}, ${r.start ?? 'not started'} → ${r.end ?? '…'})` +
      (r.reason ? `\n  ${r.reason}` : '');
    const rows = r.steps.map((s) => [
      s.name,
      s.state,
      String(s.attempts),
      [s.previousFailure ? `earlier attempt: ${s.previousFailure}` : '', s.state === 'failed' ? (s.reason ?? '') : '']
        .filter(Boolean)
        .join('; '),
    ]);
    return `${title}\n${indent(table(['STEP', 'STATE', 'ATTEMPTS', 'FAILURE'], rows))}`;
  });
  return blocks.join('\n\n');
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}
