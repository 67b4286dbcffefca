/**
 * A step is the unit of `koala up` and its kin. It knows whether its work is already done
 * (check), how to do it (run), and how to describe itself without doing anything (plan),
 * so a plan can be printed, tested as data, resumed after a failure, and run with progress.
 */

/** What a step would do, for `--dry-run` and for tests. Secrets never appear here. */
export type Action =
  | { kind: 'command'; tool: string; args: readonly string[]; input?: string }
  | { kind: 'manifest'; manifest: Record<string, unknown> }
  | {
      kind: 'helm';
      release: string;
      namespace: string;
      chart: string;
      version: string;
      /** Values as koala renders them, with secret values replaced by a marker. */
      values?: Record<string, unknown>;
      /** For koala's own chart: the objects it renders to (`helm template`), secret values masked. */
      objects?: Array<Record<string, unknown>>;
    }
  | { kind: 'wait'; what: string; timeoutMs: number }
  | { kind: 'file'; path: string; mode?: number }
  | { kind: 'note'; text: string };

export interface StepContext {
  /** Aborted on Ctrl-C or when the step's deadline passes; pass it to every child process and watch. */
  readonly signal: AbortSignal;
  /** A line of progress detail for the user, shown under the step's title. */
  report(line: string): void;
}

export type CheckResult = { done: true; detail?: string } | { done: false; reason?: string };

export interface Step {
  /** Stable id, used by --only / --skip and in JSON output. */
  readonly id: string;
  readonly title: string;
  /** Ids of the steps that must be complete first. */
  readonly needs?: readonly string[];
  /** Backstop deadline for check + run together; inner waits carry their own, clearer deadlines. */
  readonly timeoutMs?: number;
  /**
   * The Helm release this step installs. `koala down` on a cluster koala did not create removes
   * exactly these, so it takes away what `up` put there and nothing else.
   */
  readonly release?: { readonly name: string; readonly namespace: string };
  /** What the step would do; may render manifests or values, so it can be async. */
  plan(): Action[] | Promise<Action[]>;
  /** Read-only: is this step's work already done? */
  check(ctx: StepContext): Promise<CheckResult>;
  /** Do the work. Returns a short detail for the summary. */
  run(ctx: StepContext): Promise<string | void>;
}

export type StepStatus =
  | 'done' // ran and succeeded
  | 'unchanged' // check found the work already done
  | 'failed'
  | 'blocked' // a step it needs failed or was cancelled
  | 'cancelled' // interrupted before or while running
  | 'skipped'; // excluded by --skip / --only

export interface StepResult {
  id: string;
  title: string;
  status: StepStatus;
  durationMs: number;
  detail?: string;
  error?: Error;
}

export type EngineEvent =
  | { type: 'step-start'; id: string; title: string }
  | { type: 'step-log'; id: string; line: string }
  | { type: 'step-end'; result: StepResult };
