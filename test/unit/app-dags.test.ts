import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appsWithDags, dagId, renderedAppFile, writeAppDag } from '../../src/jobs/app-dags.ts';

function project(): { dir: string; dags: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-app-dags-'));
  return { dir, dags: path.join(dir, 'dags') };
}

function app(dir: string, name: string): void {
  mkdirSync(path.join(dir, 'spark-applications', name), { recursive: true });
  writeFileSync(path.join(dir, 'spark-applications', name, 'spark-app.yaml'), `name: ${name}\n`);
}

describe('the Airflow DAG beside a Spark app', () => {
  it('is an Airflow 3 DAG that submits the rendered SparkApplication through the in-cluster connection', async () => {
    const { dags } = project();
    const file = await writeAppDag(dags, 'daily-sales', 'spark-jobs');
    expect(file).toBe(path.join(dags, 'daily-sales.py'));
    const text = readFileSync(file!, 'utf8');
    expect(text).toContain('from airflow.sdk import DAG');
    expect(text).toContain(
      'from airflow.providers.cncf.kubernetes.operators.spark_kubernetes import SparkKubernetesOperator',
    );
    expect(text).toContain('dag_id="daily_sales"');
    expect(text).toContain('namespace="spark-jobs"');
    expect(text).toContain('application_file="daily-sales.sparkapplication.yaml"');
    expect(text).toContain('kubernetes_conn_id="kubernetes_default"');
    // Airflow 2 spellings that Airflow 3 rejects.
    expect(text).not.toMatch(/schedule_interval|days_ago|from airflow import DAG/);
    expect(text).not.toMatch(/\{\{\w+\}\}/);
  });

  it('never overwrites a DAG the user has', async () => {
    const { dags } = project();
    mkdirSync(dags);
    writeFileSync(path.join(dags, 'pagerank.py'), '# mine\n');
    expect(await writeAppDag(dags, 'pagerank', 'spark-jobs')).toBeUndefined();
    expect(readFileSync(path.join(dags, 'pagerank.py'), 'utf8')).toBe('# mine\n');
  });

  it('ties a DAG to its app by the rendered file it names', async () => {
    const { dir, dags } = project();
    for (const name of ['pagerank', 'etl', 'orphan']) app(dir, name);
    await writeAppDag(dags, 'pagerank', 'spark-jobs');
    writeFileSync(path.join(dags, 'etl.py'), '# a DAG of its own, not the rendered app\n');
    writeFileSync(path.join(dags, 'lonely.py'), `# names ${renderedAppFile('lonely')} but has no app\n`);
    // Naming the file is not enough: the DAG must submit it (and exactly that one).
    app(dir, 'ranks');
    writeFileSync(
      path.join(dags, 'ranks.py'),
      `# see ${renderedAppFile('ranks')}\napplication_file="my-ranks.sparkapplication.yaml"\n`,
    );
    expect(await appsWithDags(dir, dags)).toEqual(['pagerank']);
    expect(dagId('a-b-c')).toBe('a_b_c');
  });
});
