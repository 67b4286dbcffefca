import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.ts';
import type { Action } from '../../../src/engine/step.ts';
import { planUpDry } from '../../../src/orchestration/up.ts';
import { upSummary } from '../../../src/orchestration/summary.ts';
import { renderSummary } from '../../../src/ui/summary.ts';

const saved = {
  helm: process.env.KOALA_HELM,
  kind: process.env.KOALA_KIND,
  docker: process.env.KOALA_DOCKER,
  home: process.env.KOALA_HOME,
};
beforeAll(() => {
  // Any tool call would fail: the plan must need none.
  for (const tool of ['HELM', 'KIND', 'DOCKER']) process.env[`KOALA_${tool}`] = '/nonexistent/tool';
  process.env.KOALA_HOME = mkdtempSync(path.join(os.tmpdir(), 'koala-home-'));
});
afterAll(() => {
  process.env.KOALA_HELM = saved.helm;
  process.env.KOALA_KIND = saved.kind;
  process.env.KOALA_DOCKER = saved.docker;
  process.env.KOALA_HOME = saved.home;
});

describe('koala up --dry-run with the platform', () => {
  it('plans every release with its values, secrets masked, running no tool and touching no cluster', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-dry-'));
    writeFileSync(path.join(dir, '.git'), '');
    writeFileSync(path.join(dir, '.env.private'), 'AIRFLOW_PASSWORD=a-private-password-here\n', { mode: 0o600 });
    const loaded = await loadConfig({ cwd: dir, processEnv: {} });
    const { plan } = planUpDry({ loaded, recreate: false });
    const description = await plan.describe();
    const helm = description
      .flatMap((s) => s.actions)
      .filter((a): a is Extract<Action, { kind: 'helm' }> => a.kind === 'helm');
    expect(helm.map((a) => a.release).sort()).toEqual([
      'airflow',
      'koala-network-policies',
      'koala-platform',
      'koala-postgres',
      'koala-rbac',
      'minio',
      'spark-operator',
    ]);
    const text = JSON.stringify(description);
    expect(text).not.toContain('a-private-password-here');
    expect(text).toContain('<redacted>');
    expect(description.map((s) => s.id)).toEqual(
      expect.arrayContaining([
        'platform',
        'spark-operator',
        'object-store',
        'object-store-buckets',
        'airflow-postgres',
        'airflow-dags',
        'airflow',
        'rbac',
        'network-policies',
      ]),
    );
  });

  it.each(['minio', 'seaweedfs'])(
    'with images.mirror (%s), no upstream registry host is left in any value or manifest',
    async (store) => {
      const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-dry-'));
      writeFileSync(path.join(dir, '.git'), '');
      writeFileSync(
        path.join(dir, 'koala.yaml'),
        `images:\n  mirror: registry.internal:5000/hub\nobjectStore:\n  type: ${store}\n`,
      );
      const loaded = await loadConfig({ cwd: dir, processEnv: {} });
      const text = JSON.stringify(await planUpDry({ loaded, recreate: false }).plan.describe());
      expect(
        text.match(/\b(docker\.io|quay\.io|ghcr\.io|gcr\.io|registry\.k8s\.io|public\.ecr\.aws)\b[^"]*/g) ?? [],
      ).toEqual([]);
      // The images are all there, behind the mirror: node, registry, Postgres, the charts' and the DAG sidecar's.
      // (Charts that take registry and repository apart get "registry.internal:5000" and "hub/…".)
      const expected = [
        'kindest/node',
        'library/registry',
        'library/postgres',
        'apache/airflow',
        'kubeflow/spark-operator/controller',
        store === 'minio' ? 'minio/minio' : 'chrislusf/seaweedfs',
      ];
      for (const image of expected)
        expect(text, image).toMatch(new RegExp(`"(registry\\.internal:5000/)?hub/${image}`));
    },
  );

  it('the end of up lists every endpoint with its port-forward command and where the credentials are', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-dry-'));
    writeFileSync(path.join(dir, '.git'), '');
    const loaded = await loadConfig({ cwd: dir, processEnv: {} });
    const { ctx } = planUpDry({ loaded, recreate: false });
    const summary = upSummary(ctx, { ok: true, interrupted: false, durationMs: 1000, steps: [] });
    expect(summary.endpoints?.filter((e) => e.portForward).map((e) => e.portForward)).toEqual([
      'koala port-forward object-store',
      'koala port-forward object-store-console',
      'koala port-forward airflow',
    ]);
    const rendered = renderSummary(summary);
    expect(rendered).toContain('http://127.0.0.1:8080');
    expect(rendered).toMatch(
      /koala credentials\s+the Airflow and object store credentials \(kept in .*credentials\.json, mode 0600\)/,
    );
    expect(rendered).toContain('koala users kubeconfig view');
  });
});
