import { errorMessage, InterruptedError, isAbortError, KoalaError } from '../util/errors.ts';
import type { Plan, PlannedStep } from './plan.ts';
import type { EngineEvent, StepContext, StepResult, StepStatus } from './step.ts';

export interface RunOptions {
  /** Ctrl-C: running steps are aborted, pending ones cancelled. */
  signal?: AbortSignal;
  onEvent?: (event: EngineEvent) => void;
  /** Default deadline for a step that declares none. */
  defaultTimeoutMs?: number;
}

export interface RunResult {
  ok: boolean;
  interrupted: boolean;
  durationMs: number;
  steps: StepResult[];
}

const DEFAULT_TIMEOUT_MS = 15 * 60_000;

/**
 * Runs a plan: every step starts as soon as the steps it needs are complete, so independent
 * steps run in parallel. A failure blocks only the steps that depend on it; unrelated steps
 * go on, so the next run has less left to do.
 */
export async function runPlan(plan: Plan, options: RunOptions = {}): Promise<RunResult> {
  const started = performance.now();
  const emit = options.onEvent ?? (() => {});
  const results = new Map<string, StepResult>();
  const running = new Map<string, Promise<void>>();
  const entries = plan.entries;

  const satisfied = (status: StepStatus | undefined): boolean =>
    status === 'done' || status === 'unchanged' || status === 'skipped';

  const finish = (result: StepResult): void => {
    results.set(result.id, result);
    emit({ type: 'step-end', result });
  };

  const startStep = (entry: PlannedStep): void => {
    const { step } = entry;
    emit({ type: 'step-start', id: step.id, title: step.title });
    const promise = executeStep(entry, options, (line) => emit({ type: 'step-log', id: step.id, line })).then(
      (result) => {
        running.delete(step.id);
        finish(result);
      },
    );
    running.set(step.id, promise);
  };

  for (;;) {
    let progressed = false;
    for (const entry of entries) {
      const { step, mode } = entry;
      if (results.has(step.id) || running.has(step.id)) continue;
      if (mode === 'skip') {
        finish({ id: step.id, title: step.title, status: 'skipped', durationMs: 0 });
        progressed = true;
        continue;
      }
      const needs = (step.needs ?? []).map((id) => results.get(id)?.status);
      const badNeed = (step.needs ?? []).find((id) => {
        const status = results.get(id)?.status;
        return status !== undefined && !satisfied(status);
      });
      if (badNeed !== undefined || options.signal?.aborted) {
        const cancelled = options.signal?.aborted || results.get(badNeed ?? '')?.status === 'cancelled';
        finish({
          id: step.id,
          title: step.title,
          status: cancelled ? 'cancelled' : 'blocked',
          durationMs: 0,
          ...(badNeed !== undefined && !cancelled ? { detail: `needs "${badNeed}", which did not complete` } : {}),
        });
        progressed = true;
        continue;
      }
      if (needs.every(satisfied)) {
        startStep(entry);
        progressed = true;
      }
    }
    if (results.size === entries.length) break;
    if (!progressed) {
      if (running.size === 0) throw new Error('engine: no step can start (this is a bug in the plan)');
      await Promise.race(running.values());
    }
  }

  const steps = entries.map((e) => results.get(e.step.id)!);
  const interrupted = Boolean(options.signal?.aborted) || steps.some((s) => s.status === 'cancelled');
  return {
    ok: steps.every((s) => satisfied(s.status)),
    interrupted,
    durationMs: performance.now() - started,
    steps,
  };
}

async function executeStep(
  entry: PlannedStep,
  options: RunOptions,
  report: (line: string) => void,
): Promise<StepResult> {
  const { step, mode } = entry;
  const started = performance.now();
  const timeoutMs = step.timeoutMs ?? options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const ctx: StepContext = { signal, report };
  const base = { id: step.id, title: step.title };
  const elapsed = (): number => performance.now() - started;

  try {
    const work = (async (): Promise<StepResult> => {
      const check = await step.check(ctx);
      if (check.done)
        return {
          ...base,
          status: 'unchanged',
          durationMs: elapsed(),
          ...(check.detail ? { detail: check.detail } : {}),
        };
      if (mode === 'verify') {
        throw new KoalaError(`"${step.id}" is not done${check.reason ? `: ${check.reason}` : ''}`, {
          hint: `Run \`koala up\` without --only to complete it, or add it to --only.`,
        });
      }
      signal.throwIfAborted();
      const detail = await step.run(ctx);
      return { ...base, status: 'done', durationMs: elapsed(), ...(detail ? { detail } : {}) };
    })();
    // Race the work against the signal, so a step that ignores its signal cannot hang the run.
    return await raceAbort(work, signal);
  } catch (error) {
    if (options.signal?.aborted) {
      return { ...base, status: 'cancelled', durationMs: elapsed(), error: new InterruptedError() };
    }
    if (deadline.aborted && (isAbortError(error) || signal.aborted)) {
      return {
        ...base,
        status: 'failed',
        durationMs: elapsed(),
        error: new KoalaError(`"${step.title}" did not finish within ${formatDuration(timeoutMs)}`, {
          hint: `Check what it waits for with \`koala status\`, then run \`koala up\` again to resume.`,
        }),
      };
    }
    return {
      ...base,
      status: 'failed',
      durationMs: elapsed(),
      error: error instanceof Error ? error : new Error(errorMessage(error)),
    };
  }
}

/** How long an aborted step may take to stop its child processes before the run moves on. */
const STOP_GRACE_MS = 5_000;

function raceAbort<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    // A step that honours its signal ends soon after it (its tools are killed and reaped);
    // wait for that, so no child outlives koala, but never longer than the grace period.
    const onAbort = (): void => {
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((r) => (timer = setTimeout(r, STOP_GRACE_MS)));
      void Promise.race([work.then(noop, noop), grace]).then(() => {
        clearTimeout(timer);
        reject(signal.reason);
      });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

function noop(): void {}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`;
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  return rest === 0 ? `${minutes}m` : `${minutes}m${rest}s`;
}
