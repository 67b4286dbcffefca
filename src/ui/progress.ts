import type { Plan } from '../engine/plan.ts';
import { formatDuration, runPlan, type RunResult } from '../engine/runner.ts';
import type { EngineEvent, StepResult } from '../engine/step.ts';
import { errorMessage } from '../util/errors.ts';
import type { OutputMode } from './mode.ts';

export interface ProgressOptions {
  mode: OutputMode;
  signal?: AbortSignal;
  /** Where plain lines go (stderr keeps stdout clean for --json and pipes). */
  write?: (line: string) => void;
}

/** Run a plan and show its progress in the way the output mode calls for. */
export async function runWithProgress(plan: Plan, options: ProgressOptions): Promise<RunResult> {
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (options.mode === 'tty') return runWithListr(plan, options.signal);
  const onEvent = options.mode === 'plain' ? plainRenderer(write) : undefined;
  return runPlan(plan, { ...(options.signal ? { signal: options.signal } : {}), ...(onEvent ? { onEvent } : {}) });
}

export function statusWord(result: StepResult): string {
  switch (result.status) {
    case 'done':
      return 'done';
    case 'unchanged':
      return 'already done';
    case 'failed':
      return 'FAILED';
    case 'blocked':
      return 'blocked';
    case 'cancelled':
      return 'cancelled';
    case 'skipped':
      return 'skipped';
  }
}

function plainRenderer(write: (line: string) => void): (event: EngineEvent) => void {
  return (event) => {
    if (event.type === 'step-start') write(`[${event.id}] ${event.title}`);
    else if (event.type === 'step-log') write(`[${event.id}]   ${event.line}`);
    else {
      const r = event.result;
      if (r.status === 'skipped') return;
      const extra = r.error ? `: ${errorMessage(r.error).split('\n')[0]}` : r.detail ? `: ${r.detail}` : '';
      write(`[${r.id}] ${statusWord(r)} (${formatDuration(r.durationMs)})${extra}`);
    }
  };
}

/**
 * listr2 draws the progress; the engine does the work. Each listr task mirrors one step: it
 * waits for the step's events and ends the way the step ended.
 */
async function runWithListr(plan: Plan, signal: AbortSignal | undefined): Promise<RunResult> {
  const { Listr } = await import('listr2');
  type Waiter = {
    started: Promise<void>;
    ended: Promise<StepResult>;
    start(): void;
    end(r: StepResult): void;
    log?: (line: string) => void;
  };
  const waiters = new Map<string, Waiter>();
  for (const { step } of plan.entries) {
    let start!: () => void;
    let end!: (r: StepResult) => void;
    const started = new Promise<void>((resolve) => (start = resolve));
    const ended = new Promise<StepResult>((resolve) => (end = resolve));
    waiters.set(step.id, { started, ended, start, end });
  }
  const visible = plan.entries.filter((e) => e.mode !== 'skip');
  const list = new Listr(
    visible.map(({ step }) => ({
      title: step.title,
      task: async (_: unknown, task: { title: string; output: string; skip(message?: string): void }) => {
        const waiter = waiters.get(step.id)!;
        if (step.needs?.length) task.output = `waiting for ${step.needs.join(', ')}`;
        waiter.log = (line) => (task.output = line);
        await Promise.race([waiter.started, waiter.ended]);
        task.output = '';
        const result = await waiter.ended;
        const took = formatDuration(result.durationMs);
        if (result.status === 'unchanged') return task.skip(`${step.title} (already done)`);
        if (result.status === 'blocked' || result.status === 'cancelled')
          return task.skip(`${step.title} (${result.status})`);
        if (result.status === 'failed') throw result.error ?? new Error('failed');
        task.title = `${step.title} (${took}${result.detail ? `, ${result.detail}` : ''})`;
      },
    })),
    {
      concurrent: true,
      exitOnError: false,
      collectErrors: false,
      registerSignalListeners: false,
      rendererOptions: {
        collapseSubtasks: false,
        collapseSkips: true,
        showErrorMessage: false,
        formatOutput: 'truncate',
      },
    },
  );
  const onEvent = (event: EngineEvent): void => {
    if (event.type === 'step-start') waiters.get(event.id)?.start();
    else if (event.type === 'step-log') waiters.get(event.id)?.log?.(event.line);
    else waiters.get(event.result.id)?.end(event.result);
  };
  const rendering = list.run().catch(() => undefined);
  const result = await runPlan(plan, { ...(signal ? { signal } : {}), onEvent });
  await rendering;
  return result;
}
