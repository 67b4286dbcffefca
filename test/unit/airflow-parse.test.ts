import { describe, expect, it } from 'vitest';
import { errorLine, importErrors, parsedDags, type AirflowApi } from '../../src/components/airflow/api.ts';
import { dagFiles, reportFromApi } from '../../src/components/airflow/parse.ts';

const TRACE = [
  'Traceback (most recent call last):',
  '  File "/opt/airflow/dags/current/legacy.py", line 3, in <module>',
  '    from airflow.utils.dates import days_ago',
  "ModuleNotFoundError: No module named 'airflow.utils.dates'",
  '',
].join('\n');

describe('dagFiles: the files Airflow parses in safe mode', () => {
  it.each([
    ['a DAG file', 'dag.py', 'from airflow.sdk import DAG', true],
    ['a helper module that never mentions a DAG', 'helpers.py', 'import airflow\nX = 1', false],
    ['a file that mentions a dag but not airflow', 'notes.py', '# dag helpers', false],
    ['a YAML file', 'app.sparkapplication.yaml', 'airflow dag', false],
    ['a DAG in a subfolder', 'team/etl.py', 'from airflow import DAG', true],
  ])('%s', (_what, file, text, parsed) => {
    expect(dagFiles({ [file]: text })).toEqual(parsed ? [file] : []);
  });

  it(".airflowignore leaves out what it matches, in .gitignore's syntax, relative to its folder", () => {
    const dag = 'from airflow.sdk import DAG';
    const files = {
      '.airflowignore': 'scratch_*.py\nvendor/\n',
      'etl.py': dag,
      'scratch_try.py': dag,
      'vendor/lib_dag.py': dag,
      'team/.airflowignore': '/old.py\n',
      'team/old.py': dag,
      'team/new.py': dag,
      'team/sub/old.py': dag,
      'other/old.py': dag,
    };
    expect(dagFiles(files)).toEqual(['etl.py', 'other/old.py', 'team/new.py', 'team/sub/old.py']);
  });
});

describe("reportFromApi: each file's DAGs or import error, from Airflow's records", () => {
  const since = new Date('2026-12-01T10:00:00Z');
  const dag = (dagId: string, file: string, at: string) => ({ dagId, file, lastParsed: at, paused: true });

  it('a file parsed since the publish reports its DAGs; one parsed before is pending', () => {
    const report = reportFromApi(
      ['a.py', 'b.py'],
      [],
      [dag('a', 'a.py', '2026-12-01T10:00:05Z'), dag('b', 'b.py', '2026-12-01T09:59:00Z')],
      since,
    );
    expect(report).toEqual({ files: [{ file: 'a.py', dags: ['a'] }], pending: ['b.py'] });
  });

  it('an import error since the publish is reported with its trace; an older one does not count', () => {
    const fresh = reportFromApi(
      ['legacy.py'],
      [{ filename: 'legacy.py', timestamp: '2026-12-01T10:00:03Z', stackTrace: TRACE }],
      [],
      since,
    );
    expect(fresh).toEqual({ files: [{ file: 'legacy.py', dags: [], error: TRACE }], pending: [] });
    const stale = reportFromApi(
      ['legacy.py'],
      [{ filename: 'legacy.py', timestamp: '2026-12-01T09:00:00Z', stackTrace: TRACE }],
      [],
      since,
    );
    expect(stale.pending).toEqual(['legacy.py']);
  });

  it('matches a file by its path in the bundle, or the absolute path under the DAG folder; never by suffix', () => {
    const report = reportFromApi(
      ['a.py', 'team/etl.py'],
      [{ filename: 'sub/a.py', timestamp: '2026-12-01T10:00:03Z', stackTrace: TRACE }],
      [
        dag('etl', '/opt/airflow/dags/current/team/etl.py', '2026-12-01T10:01:00Z'),
        dag('a', 'a.py', '2026-12-01T10:01:00Z'),
      ],
      since,
    );
    expect(report.files).toEqual([
      { file: 'a.py', dags: ['a'] },
      { file: 'team/etl.py', dags: ['etl'] },
    ]);
  });

  it('a file Airflow has no record of is pending, not "no DAG"', () => {
    expect(reportFromApi(['new.py'], [], [], since)).toEqual({ files: [], pending: ['new.py'] });
  });
});

/** Airflow's list endpoints as they page: `limit` capped at 100, `offset`, `total_entries`. */
function pagedApi(key: string, items: unknown[]): AirflowApi & { routes: string[] } {
  const routes: string[] = [];
  return {
    routes,
    get<T>(route: string): Promise<T> {
      routes.push(route);
      const query = new URL(route, 'http://airflow').searchParams;
      const limit = Math.min(Number(query.get('limit') ?? 50), 100);
      const offset = Number(query.get('offset') ?? 0);
      return Promise.resolve({ [key]: items.slice(offset, offset + limit), total_entries: items.length } as T);
    },
    send: () => Promise.reject(new Error('not used')),
  };
}

describe("reading Airflow's lists: every page, not the first 100", () => {
  it('reads 250 DAGs in three pages, in a stable order', async () => {
    const dags = Array.from({ length: 250 }, (_, i) => ({ dag_id: `dag_${String(i).padStart(3, '0')}` }));
    const api = pagedApi('dags', dags);
    const read = await parsedDags(api);
    expect(read.map((d) => d.dagId)).toEqual(dags.map((d) => d.dag_id));
    expect(api.routes).toEqual([
      '/api/v2/dags?order_by=dag_id&limit=100&offset=0',
      '/api/v2/dags?order_by=dag_id&limit=100&offset=100',
      '/api/v2/dags?order_by=dag_id&limit=100&offset=200',
    ]);
  });

  it('stops at total_entries: exactly 100 import errors take one request', async () => {
    const errors = Array.from({ length: 100 }, (_, i) => ({ filename: `f${i}.py`, stack_trace: TRACE }));
    const api = pagedApi('import_errors', errors);
    expect(await importErrors(api)).toHaveLength(100);
    expect(api.routes).toHaveLength(1);
  });

  it('an empty list is one request', async () => {
    const api = pagedApi('import_errors', []);
    expect(await importErrors(api)).toEqual([]);
    expect(api.routes).toHaveLength(1);
  });
});

describe('errorLine', () => {
  it("is the traceback's last line: the exception and its message", () => {
    expect(errorLine(TRACE)).toBe("ModuleNotFoundError: No module named 'airflow.utils.dates'");
    expect(errorLine('')).toBe('');
  });
});

describe('koala status with a DAG that fails to import', () => {
  it("lists the file and Airflow's error under the components, and is not healthy", async () => {
    const { renderStatus } = await import('../../src/ui/status.ts');
    const text = renderStatus({
      healthy: false,
      cluster: { name: 'koala', exists: true, reachable: true, context: 'kind-koala', version: 'v1.34.0' },
      nodes: [{ name: 'koala-control-plane', role: 'control-plane', ready: true, version: 'v1.34.0' }],
      components: [
        {
          id: 'airflow',
          title: 'Airflow',
          ok: false,
          detail: 'airflow-1.22.0: 4/4 ready; 1 DAG file failed to import',
          problems: [`dags/legacy.py: ${errorLine(TRACE)}`, '`koala dags sync` shows the whole error.'],
        },
      ],
    });
    expect(text).toMatch(/airflow\s+UNHEALTHY\s+airflow-1\.22\.0: 4\/4 ready; 1 DAG file failed to import/);
    expect(text).toContain("  airflow: dags/legacy.py: ModuleNotFoundError: No module named 'airflow.utils.dates'");
    expect(text).toContain('  airflow: `koala dags sync` shows the whole error.');
  });
});
