import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Component } from '../../../src/components/component.ts';
import { portForwardTargets } from '../../../src/components/endpoints.ts';
import { COMPONENTS } from '../../../src/components/all.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { upPlan } from '../../../src/orchestration/plans.ts';
import { collectStatus } from '../../../src/orchestration/status.ts';
import { upSummary } from '../../../src/orchestration/summary.ts';
import { planUpDry } from '../../../src/orchestration/up.ts';
import { UP_NEEDS, UP_STEP_IDS } from '../../../src/orchestration/up-order.ts';

/**
 * "A folder and a line": a component declared in one object, added to the list of components,
 * shows up in the plan of `koala up`, in `koala status`, among the endpoints and as a
 * port-forward target, with no other file touched.
 */
const notebook: Component = {
  id: 'notebook',
  title: 'A notebook server',
  enabled: () => true,
  steps: () => [
    {
      id: 'notebook',
      title: 'Install the notebook server',
      needs: ['platform'],
      plan: () => [{ kind: 'note', text: 'would install a notebook server' }],
      check: async () => ({ done: true }),
      run: async () => undefined,
    },
  ],
  health: async () => ({ ok: true, detail: 'serving' }),
  services: (config) => [
    {
      name: 'notebook',
      namespace: config.namespaces.system,
      service: 'notebook',
      port: 8888,
      localPort: 0,
      description: 'Notebook UI',
    },
  ],
};

const saved = { kind: process.env.KOALA_KIND, helm: process.env.KOALA_HELM, home: process.env.KOALA_HOME };
beforeAll(() => {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'koala-kind-'));
  // A kind that knows no clusters: status lists the components as unreachable, touching nothing.
  writeFileSync(path.join(bin, 'kind'), '#!/bin/sh\necho "No kind clusters found." >&2\n');
  chmodSync(path.join(bin, 'kind'), 0o755);
  process.env.KOALA_KIND = path.join(bin, 'kind');
  process.env.KOALA_HELM = '/nonexistent/tool';
  process.env.KOALA_HOME = mkdtempSync(path.join(os.tmpdir(), 'koala-home-'));
});
afterAll(() => {
  for (const [key, value] of Object.entries({
    KOALA_KIND: saved.kind,
    KOALA_HELM: saved.helm,
    KOALA_HOME: saved.home,
  })) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

async function context(): Promise<ReturnType<typeof planUpDry>['ctx']> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-component-'));
  writeFileSync(path.join(dir, '.git'), '');
  return planUpDry({ loaded: await loadConfig({ cwd: dir, processEnv: {} }), recreate: false }).ctx;
}

describe('adding a component', () => {
  it('is planned after the steps of src/orchestration/up-order.ts, with the needs it brings', async () => {
    const plan = upPlan(await context(), [...COMPONENTS, notebook]);
    expect(plan.ids()).toEqual([...UP_STEP_IDS, 'notebook']);
    expect(plan.get('notebook')?.needs).toEqual(['platform']);
  });

  it('is listed by status, among the endpoints and as a port-forward target', async () => {
    const ctx = await context();
    const status = await collectStatus(ctx, AbortSignal.timeout(10_000), [...COMPONENTS, notebook]);
    expect(status.components.map((c) => c.id)).toContain('notebook');
    const summary = upSummary(ctx, { ok: true, interrupted: false, durationMs: 1, steps: [] }, [
      ...COMPONENTS,
      notebook,
    ]);
    expect(summary.endpoints).toContainEqual({
      name: 'Notebook UI',
      url: '(through port-forward)',
      portForward: 'koala port-forward notebook',
    });
    expect(portForwardTargets(ctx.config, [...COMPONENTS, notebook]).notebook).toMatchObject({
      service: 'notebook',
      port: 8888,
    });
  });
});

describe('the order of koala up', () => {
  it('is the order of src/orchestration/up-order.ts, and each step waits for what that file says', async () => {
    const plan = upPlan(await context());
    expect(plan.ids()).toEqual([...UP_STEP_IDS]);
    for (const id of UP_STEP_IDS) expect(plan.get(id)?.needs, id).toEqual(UP_NEEDS[id]);
  });

  it('port-forward names come from the components: airflow and the object store', async () => {
    expect(Object.keys(portForwardTargets((await context()).config))).toEqual([
      'object-store',
      'object-store-console',
      'airflow',
    ]);
  });
});
