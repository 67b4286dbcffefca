import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import type { UpDryRunJson } from '../../../src/cli/results.ts';
import { planUpDry } from '../../../src/orchestration/up.ts';

/**
 * The whole plan of `koala up --dry-run --json` (what `{ dryRun, steps, notes }` holds) for a few
 * configurations, compared with a snapshot kept in __snapshots__/. A refactor of how the plan is
 * assembled must leave these files unchanged; a change of what `up` does shows up here as a diff.
 * Volatile parts (temporary directories, the digest of koala's chart) are replaced by markers.
 * helm is pointed at a missing binary, so koala's chart is planned without `helm template`.
 */

const saved = {
  helm: process.env.KOALA_HELM,
  kind: process.env.KOALA_KIND,
  docker: process.env.KOALA_DOCKER,
  home: process.env.KOALA_HOME,
};
let home = '';
beforeAll(() => {
  for (const tool of ['HELM', 'KIND', 'DOCKER']) process.env[`KOALA_${tool}`] = '/nonexistent/tool';
  home = mkdtempSync(path.join(os.tmpdir(), 'koala-home-'));
  process.env.KOALA_HOME = home;
});
afterAll(() => {
  for (const [key, value] of Object.entries({
    KOALA_HELM: saved.helm,
    KOALA_KIND: saved.kind,
    KOALA_DOCKER: saved.docker,
    KOALA_HOME: saved.home,
  })) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

export const PLAN_CONFIGS: Record<string, string> = {
  default: '',
  seaweedfs: 'objectStore:\n  type: seaweedfs\n',
  'components-off':
    'components:\n' +
    '  spark-operator:\n    enabled: false\n' +
    '  object-store:\n    enabled: false\n' +
    '  airflow:\n    enabled: false\n',
  'one-control-plane': 'cluster:\n  controlPlanes: 1\n  workers: 1\n',
  'external-object-store': 'objectStore:\n  type: external\n  endpoint: http://203.0.113.7:9000\n',
};

/** The dry-run JSON for one koala.yaml, with temporary paths and the chart digest normalised. */
export async function dryRunJson(yaml: string): Promise<unknown> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-plan-'));
  writeFileSync(path.join(dir, '.git'), '');
  if (yaml) writeFileSync(path.join(dir, 'koala.yaml'), yaml);
  const loaded = await loadConfig({ cwd: dir, processEnv: {} });
  const { plan, notes } = planUpDry({ loaded, recreate: false });
  const json: UpDryRunJson = { dryRun: true, steps: await plan.describe(), notes };
  const text = JSON.stringify(json)
    .replaceAll(dir, '<project>')
    .replaceAll(home, '<koala-home>')
    .replace(/"chartDigest":"[0-9a-f]+"/g, '"chartDigest":"<digest>"');
  return JSON.parse(text) as unknown;
}

describe('koala up --dry-run --json: the full plan', () => {
  it.each(Object.keys(PLAN_CONFIGS))('%s', async (name) => {
    const json = await dryRunJson(PLAN_CONFIGS[name] ?? '');
    await expect(`${JSON.stringify(json, null, 2)}\n`).toMatchFileSnapshot(`__snapshots__/up-plan.${name}.json`);
  });
});

/** The shape of a JSON value: keys and types, arrays as the union of their items' shapes. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = [...new Set(value.map((v) => JSON.stringify(shape(v))))].sort();
    return items.map((i) => JSON.parse(i) as unknown);
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, shape((value as Record<string, unknown>)[k])]),
    );
  }
  return value === null ? 'null' : typeof value;
}

describe('koala up --dry-run --json: the schema scripts rely on', () => {
  it('top level and step fields, every action kind with its fields', async () => {
    const json = (await dryRunJson(PLAN_CONFIGS.default ?? '')) as UpDryRunJson;
    const actions = json.steps
      .flatMap((s) => s.actions)
      .map((a) => ({ ...a, ...('values' in a ? { values: {} } : {}), ...('manifest' in a ? { manifest: {} } : {}) }));
    const schema = {
      top: Object.keys(json).sort(),
      step: shape(json.steps.map((s) => ({ ...s, actions: [] }))),
      actions: shape(actions),
    };
    await expect(`${JSON.stringify(schema, null, 2)}\n`).toMatchFileSnapshot('__snapshots__/up-dry-run.schema.json');
  });
});
