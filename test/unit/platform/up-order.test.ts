import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { portForwardTargets } from '../../../src/components/endpoints.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { upPlan } from '../../../src/orchestration/plans.ts';
import { planUpDry } from '../../../src/orchestration/up.ts';
import { UP_NEEDS, UP_STEP_IDS } from '../../../src/orchestration/up-order.ts';

async function context(): Promise<ReturnType<typeof planUpDry>['ctx']> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-order-'));
  writeFileSync(path.join(dir, '.git'), '');
  return planUpDry({ loaded: await loadConfig({ cwd: dir, processEnv: {} }), recreate: false }).ctx;
}

describe('the order of koala up', () => {
  it('is the order of src/orchestration/up-order.ts, and each step waits for what that file says', async () => {
    const plan = upPlan(await context());
    expect(plan.ids()).toEqual([...UP_STEP_IDS]);
    for (const id of UP_STEP_IDS) expect(plan.get(id)?.needs, id).toEqual(UP_NEEDS[id]);
  });

  it('port-forward names come from the components: the object store, airflow and the gateway', async () => {
    expect(Object.keys(portForwardTargets((await context()).config))).toEqual([
      'object-store',
      'object-store-console',
      'airflow',
      'gateway',
    ]);
  });
});
