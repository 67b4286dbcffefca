import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { scaffoldSparkApp } from '../../src/jobs/scaffold.ts';
import { REPO } from '../support/testbed.ts';
import { expectedRanks, parseEdges } from '../support/pagerank.ts';

/**
 * The example app `koala new spark-app` writes, run for real: spark-submit from the pyspark
 * package (scripts/testbed/pyspark.sh: a venv outside the repo) in local mode with the machine's
 * Java. Its ranks must match PageRank computed independently here.
 */
let sparkHome = '';

beforeAll(() => {
  // Installs on first use; in CI a failure here fails the test (nothing is skipped).
  execFileSync('bash', [path.join(REPO, 'scripts/testbed/pyspark.sh')], {
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 10 * 60_000,
  });
  sparkHome = execFileSync('bash', [path.join(REPO, 'scripts/testbed/pyspark.sh'), '--print-home'], {
    encoding: 'utf8',
  }).trim();
}, 11 * 60_000);

describe('the PageRank example app (pyspark, local mode)', () => {
  it('prints and writes the right ranks for the bundled graph', async () => {
    const project = mkdtempSync(path.join(os.tmpdir(), 'koala-pagerank-'));
    const { dir } = await scaffoldSparkApp({ projectDir: project, name: 'pagerank', bucket: 'spark-data' });
    const input = path.join(dir, 'data/pagerank_data.txt');
    const output = path.join(project, 'ranks');
    const stdout = execFileSync(
      path.join(sparkHome, 'bin/spark-submit'),
      [
        '--master',
        'local[1]',
        '--conf',
        'spark.ui.enabled=false',
        '--conf',
        'spark.default.parallelism=1',
        '--conf',
        'spark.sql.shuffle.partitions=1',
        path.join(dir, 'pagerank.py'),
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          SPARK_HOME: sparkHome,
          PAGERANK_INPUT: input,
          PAGERANK_ITERATIONS: '10',
          PAGERANK_OUTPUT: output,
          PYSPARK_PYTHON: path.join(sparkHome, '../../../../bin/python'),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: 5 * 60_000,
      },
    );
    const expected = expectedRanks(parseEdges(readFileSync(input, 'utf8')), 10);
    const printed = new Map([...stdout.matchAll(/^(\S+) has rank: ([\d.]+)\.$/gm)].map((m) => [m[1]!, Number(m[2])]));
    expect([...printed.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [page, rank] of expected) expect(printed.get(page), page).toBeCloseTo(rank, 5);
    // Page 1 collects from every other page: it ranks first, the rest tie.
    expect([...printed.keys()][0]).toBe('1');
    expect([...expected.values()].reduce((a, b) => a + b, 0)).toBeCloseTo(4, 5);

    const csv = readdirSync(output).find((f) => f.endsWith('.csv'))!;
    const rows = readFileSync(path.join(output, csv), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('page,rank');
    const written = new Map(
      rows
        .slice(1)
        .map((r) => r.split(',') as [string, string])
        .map(([p, r]) => [p, Number(r)]),
    );
    for (const [page, rank] of expected) expect(written.get(page), page).toBeCloseTo(rank, 9);
  });
});
