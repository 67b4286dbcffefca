import { describe, expect, it } from 'vitest';
import { Plan } from '../../src/engine/plan.ts';
import { runPlan } from '../../src/engine/runner.ts';
import type { Step, StepContext } from '../../src/engine/step.ts';

/** A step over an in-memory world, recording what ran and when. */
function fakeStep(
  id: string,
  opts: {
    needs?: string[];
    ms?: number;
    fail?: boolean;
    world: Set<string>;
    log: string[];
    hang?: boolean;
    timeoutMs?: number;
  },
): Step {
  return {
    id,
    title: `step ${id}`,
    ...(opts.needs ? { needs: opts.needs } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    plan: () => [{ kind: 'note', text: id }],
    async check() {
      return opts.world.has(id) ? { done: true } : { done: false };
    },
    async run(ctx: StepContext) {
      opts.log.push(`start ${id}`);
      if (opts.hang)
        await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)));
      await new Promise((r) => setTimeout(r, opts.ms ?? 5));
      if (opts.fail) throw new Error(`${id} broke`);
      opts.world.add(id);
      opts.log.push(`end ${id}`);
    },
  };
}

describe('engine', () => {
  it('runs steps in dependency order and independent steps in parallel', async () => {
    const world = new Set<string>();
    const log: string[] = [];
    const plan = new Plan([
      fakeStep('a', { world, log, ms: 40 }),
      fakeStep('b', { world, log, ms: 40 }),
      fakeStep('c', { needs: ['a', 'b'], world, log }),
    ]);
    const result = await runPlan(plan);
    expect(result.ok).toBe(true);
    expect(log.indexOf('start b')).toBeLessThan(log.indexOf('end a')); // a and b overlapped
    expect(log.indexOf('start c')).toBeGreaterThan(log.indexOf('end b'));
  });

  it('skips work that is already done, so a second run changes nothing', async () => {
    const world = new Set<string>();
    const log: string[] = [];
    const steps = [fakeStep('a', { world, log }), fakeStep('b', { needs: ['a'], world, log })];
    await runPlan(new Plan(steps));
    log.length = 0;
    const second = await runPlan(new Plan(steps));
    expect(log).toEqual([]);
    expect(second.steps.map((s) => s.status)).toEqual(['unchanged', 'unchanged']);
  });

  it('blocks dependants of a failed step, finishes independent ones, and resumes on the next run', async () => {
    const world = new Set<string>();
    const log: string[] = [];
    const failing = { fail: true };
    const steps = [
      fakeStep('a', { world, log }),
      {
        ...fakeStep('b', {
          world,
          log,
          get fail() {
            return failing.fail;
          },
        }),
      },
      fakeStep('c', { needs: ['b'], world, log }),
      fakeStep('d', { needs: ['a'], world, log }),
    ];
    const first = await runPlan(new Plan(steps));
    expect(first.ok).toBe(false);
    expect(Object.fromEntries(first.steps.map((s) => [s.id, s.status]))).toEqual({
      a: 'done',
      b: 'failed',
      c: 'blocked',
      d: 'done',
    });
    expect(first.steps[1]!.error?.message).toBe('b broke');
    failing.fail = false;
    log.length = 0;
    const second = await runPlan(new Plan(steps));
    expect(second.ok).toBe(true);
    expect(log).toEqual(['start b', 'end b', 'start c', 'end c']);
  });

  it('cancels running and pending steps on abort, and reports the run as interrupted', async () => {
    const world = new Set<string>();
    const log: string[] = [];
    const controller = new AbortController();
    const plan = new Plan([fakeStep('a', { world, log, hang: true }), fakeStep('b', { needs: ['a'], world, log })]);
    setTimeout(() => controller.abort(new Error('Ctrl-C')), 20);
    const result = await runPlan(plan, { signal: controller.signal });
    expect(result.interrupted).toBe(true);
    expect(result.steps.map((s) => s.status)).toEqual(['cancelled', 'cancelled']);
    expect(world.size).toBe(0);
  });

  it('fails a step that outlives its deadline with a message naming it', async () => {
    const world = new Set<string>();
    const plan = new Plan([fakeStep('slow', { world, log: [], hang: true, timeoutMs: 30 })]);
    const result = await runPlan(plan);
    expect(result.steps[0]!.status).toBe('failed');
    expect(result.steps[0]!.error?.message).toMatch(/"step slow" did not finish within 30ms/);
  });

  it('--only verifies what the selected steps need instead of running it', async () => {
    const world = new Set<string>();
    const log: string[] = [];
    const steps = [
      fakeStep('a', { world, log }),
      fakeStep('b', { needs: ['a'], world, log }),
      fakeStep('c', { world, log }),
    ];
    const plan = new Plan(steps).select({ only: ['b'] });
    expect(plan.entries.map((e) => e.mode)).toEqual(['verify', 'run', 'skip']);
    const result = await runPlan(plan);
    expect(result.steps[0]!.status).toBe('failed');
    expect(result.steps[0]!.error?.message).toMatch(/"a" is not done/);
    expect(result.steps[1]!.status).toBe('blocked');
    expect(log).toEqual([]);
    world.add('a');
    const again = await runPlan(new Plan(steps).select({ only: ['b'] }));
    expect(again.steps.map((s) => s.status)).toEqual(['unchanged', 'done', 'skipped']);
  });

  it('--skip treats a step as satisfied for its dependants', async () => {
    const world = new Set<string>();
    const log: string[] = [];
    const plan = new Plan([fakeStep('a', { world, log }), fakeStep('b', { needs: ['a'], world, log })]).select({
      skip: ['a'],
    });
    const result = await runPlan(plan);
    expect(result.steps.map((s) => s.status)).toEqual(['skipped', 'done']);
  });

  it('rejects unknown step names, duplicate ids, unknown needs and cycles', () => {
    const world = new Set<string>();
    const log: string[] = [];
    const plan = new Plan([fakeStep('a', { world, log })]);
    expect(() => plan.select({ only: ['nope'] })).toThrow(/Unknown step: nope/);
    expect(() => new Plan([fakeStep('a', { world, log }), fakeStep('a', { world, log })])).toThrow(
      /duplicate step id "a"/,
    );
    expect(() => new Plan([fakeStep('a', { needs: ['x'], world, log })])).toThrow(/unknown step "x"/);
    expect(
      () => new Plan([fakeStep('a', { needs: ['b'], world, log }), fakeStep('b', { needs: ['a'], world, log })]),
    ).toThrow(/cycle a -> b -> a/);
  });

  it('describes the plan as data without running anything', async () => {
    const world = new Set<string>();
    const log: string[] = [];
    const description = await new Plan([fakeStep('a', { world, log }), fakeStep('b', { needs: ['a'], world, log })])
      .select({ skip: ['b'] })
      .describe();
    expect(description).toEqual([
      { id: 'a', title: 'step a', needs: [], mode: 'run', actions: [{ kind: 'note', text: 'a' }] },
      { id: 'b', title: 'step b', needs: ['a'], mode: 'skip', actions: [] },
    ]);
    expect(log).toEqual([]);
  });
});
