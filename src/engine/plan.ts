import { KoalaError, EXIT } from '../util/errors.ts';
import type { Action, Step } from './step.ts';

export type PlanDescription = Array<{ id: string; title: string; needs: string[]; mode: StepMode; actions: Action[] }>;

/** How the runner treats a step of the plan. */
export type StepMode =
  | 'run' // check, then run when not done
  | 'verify' // not selected, but needed by a selected step: must already be done
  | 'skip'; // excluded by the user

export interface PlannedStep {
  step: Step;
  mode: StepMode;
}

/** An ordered, validated set of steps with their dependencies. */
export class Plan {
  readonly entries: readonly PlannedStep[];

  constructor(steps: readonly Step[] | readonly PlannedStep[]) {
    this.entries = steps.map((s) => ('step' in s ? s : { step: s, mode: 'run' as const }));
    validate(this.entries.map((e) => e.step));
  }

  get steps(): Step[] {
    return this.entries.map((e) => e.step);
  }

  ids(): string[] {
    return this.entries.map((e) => e.step.id);
  }

  get(id: string): Step | undefined {
    return this.entries.find((e) => e.step.id === id)?.step;
  }

  /**
   * Narrow the plan to what the user asked for. `only` runs just those steps; the steps they
   * need are verified (they must already be done) rather than run. `skip` removes steps and
   * treats them as satisfied for their dependants.
   */
  select(options: { only?: readonly string[]; skip?: readonly string[] }): Plan {
    const known = new Set(this.ids());
    const unknown = [...(options.only ?? []), ...(options.skip ?? [])].filter((id) => !known.has(id));
    if (unknown.length > 0) {
      throw new KoalaError(`Unknown step${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
        hint: `Steps of this plan: ${this.ids().join(', ')}`,
        exitCode: EXIT.usage,
      });
    }
    const skip = new Set(options.skip ?? []);
    const only = options.only && options.only.length > 0 ? new Set(options.only) : undefined;
    const required = new Set<string>();
    if (only) {
      // Everything the selected steps transitively need is verified first.
      const visit = (id: string): void => {
        for (const need of this.get(id)?.needs ?? []) {
          if (!required.has(need)) {
            required.add(need);
            visit(need);
          }
        }
      };
      for (const id of only) visit(id);
    }
    return new Plan(
      this.entries.map(({ step }): PlannedStep => {
        if (skip.has(step.id)) return { step, mode: 'skip' };
        if (!only || only.has(step.id)) return { step, mode: 'run' };
        return { step, mode: required.has(step.id) ? 'verify' : 'skip' };
      }),
    );
  }

  /** The plan as data: what `--dry-run` prints. */
  async describe(): Promise<PlanDescription> {
    return Promise.all(
      this.entries.map(async ({ step, mode }) => ({
        id: step.id,
        title: step.title,
        needs: [...(step.needs ?? [])],
        mode,
        actions: mode === 'skip' ? [] : await step.plan(),
      })),
    );
  }
}

function validate(steps: readonly Step[]): void {
  const ids = new Set<string>();
  for (const step of steps) {
    if (ids.has(step.id)) throw new Error(`plan: duplicate step id "${step.id}"`);
    ids.add(step.id);
  }
  for (const step of steps) {
    for (const need of step.needs ?? []) {
      if (!ids.has(need)) throw new Error(`plan: step "${step.id}" needs unknown step "${need}"`);
    }
  }
  // Depth-first search for a cycle, so a bad plan fails at build time, not as a hang.
  const state = new Map<string, 'visiting' | 'done'>();
  const byId = new Map(steps.map((s) => [s.id, s]));
  const visit = (id: string, path: string[]): void => {
    const seen = state.get(id);
    if (seen === 'done') return;
    if (seen === 'visiting') throw new Error(`plan: dependency cycle ${[...path, id].join(' -> ')}`);
    state.set(id, 'visiting');
    for (const need of byId.get(id)?.needs ?? []) visit(need, [...path, id]);
    state.set(id, 'done');
  };
  for (const step of steps) visit(step.id, []);
}
