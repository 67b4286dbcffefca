/**
 * A batch pipeline on the real platform (called from platform.test.ts, on its cluster): three
 * steps in real containers of the mc image (busybox and mc), in namespace `tasks` with
 * `storage: true`, so they reach MinIO through its NetworkPolicy with the keys koala copied. The second step
 * fails on its first attempt; the run succeeds on the retry without running the first step
 * again, and the history and logs show both attempts. A second pipeline expires while scheduled
 * every minute: the run the CronJob controller starts after the expiry stops at the gate.
 * A third runs the project's PageRank app as a step: its driver is the step's container
 * (spark-submit in client mode) and asks for 3 executors, then a container step checks the ranks.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { koala } from '../support/cli.ts';
import { jsonDocument } from '../support/json-documents.ts';
import { waitFor, type PlatformWorld } from './platform-world.ts';

// The tasks namespace: koala copies the store's Secret there and labels it, and the store's
// NetworkPolicy admits its pods by that label. A Spark app step runs in the job namespace.
const NS = 'tasks';
const JOB_NS = 'spark-jobs';
// The store's address with the keys, for mc, built inside the container: no key is on a command line.
const MC_HOST =
  'export MC_HOST_s3="$(echo "$AWS_ENDPOINT_URL" | sed "s#://#://$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY@#")"';

function stepYaml(name: string, image: string, script: string): string {
  return [
    `      - name: ${name}`,
    `        image: ${image}`,
    `        env: [{ name: MC_CONFIG_DIR, value: /tmp/.mc }]`,
    `        command: [/bin/sh, -ec, ${JSON.stringify(script)}]`,
  ].join('\n');
}

/** "YYYY-MM-DD HH:MM:SS" in local time, as the pipeline-operator's files write dates. */
function localStamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ` +
    `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}`
  );
}

export async function batchPipelineOnThePlatform(world: PlatformWorld, figures: Record<string, number | string>) {
  const image = world.images.mc!;
  const file = path.join(world.project, 'daily-copy.yaml');
  writeFileSync(
    file,
    [
      'apiVersion: koala.dev/v1',
      'kind: Pipeline',
      'metadata: { name: daily-copy }',
      'spec:',
      '  storage: true',
      '  batchJob:',
      '    steps:',
      stepYaml(
        'put',
        image,
        `${MC_HOST}; echo ran >> /workspace/put.log; echo "rows: 42" > /workspace/data.txt; ` +
          'mc cp /workspace/data.txt "s3/$S3_BUCKET/pipeline/data.txt"',
      ),
      stepYaml(
        'flaky',
        image,
        // The second attempt takes 30 s, so a slow poll still sees the first one's failure.
        'if [ -f /workspace/tried ]; then sleep 30; echo "second attempt passes"; exit 0; fi; ' +
          'touch /workspace/tried; ' +
          'echo "first attempt fails on purpose"; exit 1',
      ),
      stepYaml(
        'check',
        image,
        `${MC_HOST}; mc cat "s3/$S3_BUCKET/pipeline/data.txt"; echo "put ran $(wc -l < /workspace/put.log) time(s)"; ` +
          'test "$(wc -l < /workspace/put.log)" -eq 1',
      ),
      '  strategy:',
      '    maxRetryCount: 2',
      '    timeout: 5m',
    ].join('\n') + '\n',
  );

  const deploy = await koala(world, ['pipelines', 'deploy', file, '-n', NS, '--json']);
  expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0);
  expect(jsonDocument('pipelines deploy', deploy.stdout).objects.map((o) => `${o.kind}/${o.name}:${o.action}`)).toEqual(
    ['Secret/object-store-s3:created', 'ConfigMap/object-store:created', 'CronJob/daily-copy:created'],
  );
  const again = await koala(world, ['pipelines', 'deploy', file, '-n', NS, '--json']);
  expect(jsonDocument('pipelines deploy', again.stdout).objects.map((o) => o.action)).toEqual([
    'unchanged',
    'unchanged',
    'unchanged',
  ]);

  const t0 = Date.now();
  const started = await koala(world, ['pipelines', 'run', 'daily-copy', '-n', NS, '--json']);
  expect(started.code, started.stdout + started.stderr).toBe(0);
  const runName = jsonDocument('pipelines run', started.stdout).run;
  const history = async () =>
    jsonDocument(
      'pipelines history',
      (await koala(world, ['pipelines', 'history', 'daily-copy', '-n', NS, '--json'])).stdout,
    );
  // While the kubelet waits to run the step again (10 s), and while its second attempt runs, the
  // run's record has the first attempt's failure and its reason.
  let seen = '';
  const failing = await waitFor(
    'the flaky step to fail once',
    async () => {
      const runs = (await history()).runs;
      seen = JSON.stringify(runs[0] ?? 'no run');
      const flaky = runs[0]?.steps.find((st) => st.name === 'flaky');
      if (flaky?.state === 'failed') return flaky.reason;
      return flaky?.previousFailure;
    },
    180_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}; the run's record last: ${seen}`);
  });
  expect(failing).toMatch(/^exit 1 \(Error\): first attempt fails on purpose/);
  const record = await waitFor(
    'the run to end',
    async () => (await history()).runs.find((r) => r.run === runName && r.state !== 'running'),
    180_000,
  );
  figures.batchRunSeconds = Math.round((Date.now() - t0) / 1000);
  expect(record.state).toBe('succeeded');
  expect(record.trigger).toBe('manual');
  // The step that failed ran twice; the steps before it ran once, after it once.
  expect(record.steps.map((s) => `${s.name}:${s.state}:${s.attempts}`)).toEqual([
    'put:succeeded:1',
    'flaky:succeeded:2',
    'check:succeeded:1',
  ]);
  const passed = await koala(world, ['pipelines', 'logs', 'daily-copy', '-n', NS, '--step', 'flaky']);
  expect(passed.stdout.trim()).toBe('second attempt passes');
  const check = await koala(world, ['pipelines', 'logs', 'daily-copy', '-n', NS, '--step', 'check']);
  expect(check.stdout).toContain('rows: 42');
  expect(check.stdout).toContain('put ran 1 time(s)');
  const status = await koala(world, ['status', '--json']);
  expect(jsonDocument('status', status.stdout).tasks?.items).toContainEqual(
    expect.objectContaining({ name: 'daily-copy', kind: 'batch pipeline', ok: true }),
  );

  // Scheduled every minute, expiring in 20 s: the next run the CronJob controller starts stops
  // at the gate, no step runs, and koala refuses to start one by hand.
  const expiring = path.join(world.project, 'soon-over.yaml');
  const expire = new Date(Date.now() + 20_000);
  writeFileSync(
    expiring,
    [
      'apiVersion: koala.dev/v1',
      'kind: Pipeline',
      'metadata: { name: soon-over }',
      'spec:',
      '  batchJob:',
      '    steps:',
      stepYaml('work', image, 'echo "worked at $(date)"'),
      '  strategy:',
      '    cronExpression: "* * * * *"',
      `    expire: "${localStamp(expire)}"`,
    ].join('\n') + '\n',
  );
  const scheduled = await koala(world, ['pipelines', 'deploy', expiring, '-n', NS, '--json']);
  expect(scheduled.code, scheduled.stdout + scheduled.stderr).toBe(0);
  const gated = await waitFor(
    'a scheduled run of soon-over after its expiry to fail',
    async () => {
      const h = await koala(world, ['pipelines', 'history', 'soon-over', '-n', NS, '--json']);
      const runs = jsonDocument('pipelines history', h.stdout).runs;
      return runs.find((r) => r.state === 'failed');
    },
    180_000,
  );
  expect(gated.trigger).toBe('schedule');
  expect(gated.reason).toMatch(/^expired: the run started after/);
  const refused = await koala(world, ['pipelines', 'run', 'soon-over', '-n', NS]);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(/Pipeline "soon-over" expired on/);
  const redeploy = await koala(world, ['pipelines', 'deploy', expiring, '-n', NS]);
  expect(redeploy.code).toBe(2);

  // A Spark app as a step, then a container step that reads what it wrote.
  if (!existsSync(path.join(world.project, 'spark-applications', 'pagerank')))
    expect((await koala(world, ['new', 'spark-app', 'pagerank'])).code).toBe(0);
  const ranks = path.join(world.project, 'ranks.yaml');
  writeFileSync(
    ranks,
    [
      'apiVersion: koala.dev/v1',
      'kind: Pipeline',
      'metadata: { name: ranks }',
      'spec:',
      '  storage: true',
      '  batchJob:',
      '    steps:',
      '      - name: rank',
      '        sparkApp: pagerank',
      stepYaml('count', image, `${MC_HOST}; mc ls --recursive "s3/$S3_BUCKET/pagerank/ranks/" | grep -c "part-"`),
      '  strategy:',
      '    timeout: 10m',
    ].join('\n') + '\n',
  );
  const deployRanks = await koala(world, ['pipelines', 'deploy', ranks, '-n', JOB_NS, '--json']);
  expect(deployRanks.code, deployRanks.stdout + deployRanks.stderr).toBe(0);
  expect(jsonDocument('pipelines deploy', deployRanks.stdout).sparkApps.map((a) => `${a.step}:${a.app}`)).toEqual([
    'rank:pagerank',
  ]);
  const t1 = Date.now();
  const ranked = await koala(world, [
    'pipelines',
    'run',
    'ranks',
    '-n',
    JOB_NS,
    '--wait',
    '--timeout',
    '900',
    '--json',
  ]);
  figures.sparkStepRunSeconds = Math.round((Date.now() - t1) / 1000);
  expect(ranked.code, ranked.stdout + ranked.stderr).toBe(0);
  const rankRecord = jsonDocument('pipelines run', ranked.stdout).record!;
  expect(rankRecord.steps.map((s) => `${s.name}:${s.state}:${s.attempts}`)).toEqual([
    'rank:succeeded:1',
    'count:succeeded:1',
  ]);
  const driverLog = (await koala(world, ['pipelines', 'logs', 'ranks', '-n', JOB_NS, '--step', 'rank'])).stdout;
  expect(driverLog).toMatch(/has rank: \d\.\d{6}\./);
  expect(driverLog).toContain('ranks written to s3a://');
  const executors = new Set([...driverLog.matchAll(/Registered executor .* with ID (\d+)/g)].map((m) => m[1]));
  expect(executors.size, driverLog.slice(-3000)).toBeGreaterThanOrEqual(3);
}
