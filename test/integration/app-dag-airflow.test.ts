import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/schema.ts';
import { dagId, renderedAppFile, writeAppDag } from '../../src/jobs/app-dags.ts';
import { loadApp } from '../../src/jobs/app-file.ts';
import { renderSparkApplication } from '../../src/jobs/render.ts';
import { scaffoldSparkApp } from '../../src/jobs/scaffold.ts';
import { sparkPlatform } from '../../src/jobs/spark-platform.ts';
import { REPO } from '../support/testbed.ts';

/**
 * The DAG `koala new spark-app` writes, parsed by Airflow itself: Airflow 3.2.2 (the version of
 * koala's Airflow image) with the cncf.kubernetes provider, from PyPI (scripts/testbed/airflow.sh:
 * a venv outside the repo), loads dags/ with its DagBag, the parser its DAG processor runs. The
 * SparkApplication beside the DAG is rendered as `koala dags sync` renders it (the image tag
 * aside, which needs a build).
 */
let python = '';

beforeAll(() => {
  // Installs on first use; in CI a failure here fails the test (nothing is skipped).
  execFileSync('bash', [path.join(REPO, 'scripts/testbed/airflow.sh')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 10 * 60_000,
  });
  python = execFileSync('bash', [path.join(REPO, 'scripts/testbed/airflow.sh'), '--print-python'], {
    encoding: 'utf8',
  }).trim();
}, 11 * 60_000);

/** DagBag's view of a folder: the DAGs, the import errors, and each task's operator settings. */
function dagBag(folder: string): {
  dags: string[];
  errors: Record<string, string>;
  tasks: Record<string, { type: string; namespace: string; conn: string; application: string }>;
} {
  const script = `
import json, sys
from airflow.models.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1], include_examples=False)
tasks = {}
for dag in bag.dags.values():
    for task in dag.tasks:
        tasks[f"{dag.dag_id}.{task.task_id}"] = {
            "type": type(task).__name__,
            "namespace": getattr(task, "namespace", ""),
            "conn": getattr(task, "kubernetes_conn_id", ""),
            "application": str(getattr(task, "application_file", "")),
        }
print(json.dumps({"dags": sorted(bag.dag_ids), "errors": bag.import_errors, "tasks": tasks}))
`;
  const home = mkdtempSync(path.join(os.tmpdir(), 'koala-airflow-home-'));
  const out = execFileSync(python, ['-c', script, folder], {
    encoding: 'utf8',
    env: { ...process.env, AIRFLOW_HOME: home, AIRFLOW__CORE__LOAD_EXAMPLES: 'False' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
  return JSON.parse(out.trim().split('\n').at(-1)!) as ReturnType<typeof dagBag>;
}

describe("the DAG beside a Spark app, parsed by Airflow's own DagBag", () => {
  it('loads with no import error and submits the rendered SparkApplication in the job namespace', async () => {
    const projectDir = mkdtempSync(path.join(os.tmpdir(), 'koala-app-dag-'));
    const config = defaultConfig(projectDir);
    const { dir } = await scaffoldSparkApp({ projectDir, name: 'daily-ranks', bucket: 'spark-data' });
    const dags = path.join(projectDir, 'dags');
    await writeAppDag(dags, 'daily-ranks', config.spark.jobNamespaces[0]!);
    const app = await loadApp(dir);
    const image = 'localhost:5001/koala/daily-ranks:0123456789ab';
    const manifest = renderSparkApplication(
      app,
      { app: app.name, number: 0, namespace: 'spark-jobs' },
      { image, contextDigest: '0123456789ab', platform: sparkPlatform(config) },
    );
    const { dump } = await import('js-yaml');
    writeFileSync(path.join(dags, renderedAppFile('daily-ranks')), dump(manifest));

    const bag = dagBag(dags);
    expect(bag.errors).toEqual({});
    expect(bag.dags).toEqual([dagId('daily-ranks')]);
    const task = bag.tasks[`${dagId('daily-ranks')}.run_${dagId('daily-ranks')}`]!;
    expect(task).toMatchObject({
      type: 'SparkKubernetesOperator',
      namespace: 'spark-jobs',
      conn: 'kubernetes_default',
    });
    // Airflow read the YAML beside the DAG at parse time: the run koala renders.
    expect(task.application).toContain('kind: SparkApplication');
    expect(task.application).toContain(`image: ${image}`);
  });

  it('reports a DAG written for Airflow 2 as an import error naming its file', () => {
    const dags = mkdtempSync(path.join(os.tmpdir(), 'koala-airflow2-dag-'));
    writeFileSync(
      path.join(dags, 'legacy.py'),
      [
        'from datetime import timedelta',
        'from airflow import DAG',
        'from airflow.utils.dates import days_ago',
        'with DAG("legacy", schedule_interval=timedelta(days=1), start_date=days_ago(1)):',
        '    pass',
      ].join('\n'),
    );
    const bag = dagBag(dags);
    expect(bag.dags).toEqual([]);
    expect(Object.keys(bag.errors)).toEqual([path.join(dags, 'legacy.py')]);
    expect(Object.values(bag.errors)[0]).toMatch(/days_ago/);
  });
});
