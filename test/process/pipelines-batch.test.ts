/**
 * `koala pipelines` with a batch pipeline against the test bed's API server: the CronJob it
 * deploys (schedule, retries, timeout, history), an unchanged deploy that writes nothing, a run
 * started by hand as a Job the CronJob owns, stop and start of the schedule, --dry-run, and
 * files refused with exit 2 before anything is made. The steps themselves run on real kind
 * (test/realkind/platform-pipelines.ts); kwok's pods never run a container.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { V1CronJob, V1Job, V1Namespace } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listPipelines } from '../../src/tasks/health.ts';
import { koala } from '../support/cli.ts';
import { jsonDocument } from '../support/json-documents.ts';
import { testbedKube } from '../support/testbed.ts';
import { jobsWorld } from './jobs-world.ts';

const namespace = `batch-${randomBytes(3).toString('hex')}`;
let world: ReturnType<typeof jobsWorld>;
let file = '';

const PIPELINE = `apiVersion: koala.dev/v1
kind: Pipeline
metadata:
  name: nightly
spec:
  batchJob:
    steps:
      - name: extract
        image: busybox:1.37.0
        command: [sh, -c, 'echo extract']
      - name: load
        image: busybox:1.37.0
        command: [sh, -c, 'echo load']
  strategy:
    cronExpression: "0 3 * * *"
    expire: "2999-01-01 00:00:00"
    maxRetryCount: 2
    timeout: 10m
`;

const run = (...args: string[]) => koala(world, ['pipelines', ...args, '-n', namespace, '--json']);
const cronJob = async () =>
  (await testbedKube()).get<V1CronJob>({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'nightly', namespace },
  });

beforeAll(() => {
  world = jobsWorld({ jobNamespaces: ['spark-jobs'], fakes: ['kind'] });
  file = path.join(world.project, 'nightly.yaml');
  writeFileSync(file, PIPELINE);
});
afterAll(() => {
  if (!world) return;
  execFileSync('kubectl', ['--kubeconfig', world.env.KUBECONFIG!, 'delete', 'namespace', namespace, '--wait=false'], {
    stdio: 'ignore',
  });
});

describe('koala pipelines: a batch pipeline (test bed API server)', () => {
  it('a bad file, an expired one and --dry-run make nothing', async () => {
    const bad = path.join(world.project, 'bad.yaml');
    writeFileSync(bad, PIPELINE.replace('"0 3 * * *"', '"0 3 * *"').replace('timeout: 10m', 'timeout: soon'));
    const refused = await koala(world, ['pipelines', 'deploy', bad, '-n', namespace]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`${bad}:15`);
    expect(refused.stderr).toMatch(/spec\.strategy\.cronExpression: has 4 fields, not 5/);
    expect(refused.stderr).toMatch(/spec\.strategy\.timeout: "soon" is not valid/);
    const expired = path.join(world.project, 'expired.yaml');
    writeFileSync(expired, PIPELINE.replace('2999-01-01', '2019-07-15'));
    const late = await koala(world, ['pipelines', 'deploy', expired, '-n', namespace]);
    expect(late.code).toBe(2);
    expect(late.stderr).toMatch(/Pipeline "nightly" expired on 2019-07-1\d/);
    const dry = await koala(world, ['pipelines', 'deploy', file, '-n', namespace, '--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/kind: CronJob[\s\S]*schedule: 0 3 \* \* \*[\s\S]*backoffLimit: 3/);
    const ns = await (
      await testbedKube()
    ).get<V1Namespace>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    expect(ns).toBeUndefined();
  });

  it('deploys its CronJob; a second deploy writes nothing', async () => {
    const r = await run('deploy', file);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonDocument('pipelines deploy', r.stdout)).toMatchObject({ kind: 'batch', pipeline: 'nightly' });
    const cron = (await cronJob())!;
    expect(cron.spec).toMatchObject({
      schedule: '0 3 * * *',
      suspend: false,
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 10,
      failedJobsHistoryLimit: 10,
      jobTemplate: { spec: { backoffLimit: 3, activeDeadlineSeconds: 600 } },
    });
    const pod = cron.spec!.jobTemplate.spec!.template.spec!;
    expect(pod.restartPolicy).toBe('OnFailure');
    expect(pod.initContainers!.map((c) => c.name)).toEqual(['koala-expiry-gate', 'extract']);
    expect(pod.containers.map((c) => c.name)).toEqual(['load']);
    const version = cron.metadata!.resourceVersion;
    const again = jsonDocument('pipelines deploy', (await run('deploy', file)).stdout);
    expect(again.objects.map((o) => o.action)).toEqual(['unchanged']);
    expect((await cronJob())!.metadata!.resourceVersion).toBe(version);
  });

  it('run starts a Job from the template, owned by the CronJob; history lists it', async () => {
    const r = await run('run', 'nightly');
    expect(r.code, r.stderr).toBe(0);
    const started = jsonDocument('pipelines run', r.stdout).run;
    expect(started).toMatch(/^nightly-m[0-9a-z]+$/);
    const job = (await (
      await testbedKube()
    ).get<V1Job>({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: started, namespace },
    }))!;
    const cron = (await cronJob())!;
    expect(job.metadata!.ownerReferences).toEqual([
      expect.objectContaining({ kind: 'CronJob', name: 'nightly', uid: cron.metadata!.uid, controller: true }),
    ]);
    expect(job.metadata!.annotations!['cronjob.kubernetes.io/instantiate']).toBe('manual');
    expect(job.spec!.backoffLimit).toBe(3);
    const history = jsonDocument('pipelines history', (await run('history', 'nightly')).stdout);
    expect(history).toMatchObject({ schedule: '0 3 * * *', suspended: false, expired: false });
    expect(history.runs.map((x) => `${x.run}:${x.trigger}`)).toEqual([`${started}:manual`]);
    expect(history.runs[0]!.steps.map((s) => s.name)).toEqual(['extract', 'load']);
    const [line] = await listPipelines(await testbedKube(), namespace);
    expect(line).toMatchObject({ name: 'nightly', kind: 'batch pipeline' });
    expect(line!.detail).toMatch(new RegExp(`^0 3 \\* \\* \\*; run ${started} `));
  });

  it('stop takes the schedule off, a deploy keeps it off, start turns it on', async () => {
    expect(jsonDocument('pipelines stop', (await run('stop', 'nightly')).stdout).changed).toEqual(['nightly']);
    expect((await cronJob())!.spec!.suspend).toBe(true);
    expect((await run('deploy', file)).code).toBe(0);
    expect((await cronJob())!.spec!.suspend).toBe(true);
    expect(jsonDocument('pipelines stop', (await run('stop', 'nightly')).stdout).changed).toEqual([]);
    expect(jsonDocument('pipelines start', (await run('start', 'nightly')).stdout).changed).toEqual(['nightly']);
    expect((await cronJob())!.spec!.suspend).toBe(false);
    const missing = await koala(world, ['pipelines', 'history', 'nope', '-n', namespace]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`No batch pipeline "nope" in namespace ${namespace}`);
  });

  it('delete removes the CronJob and with it its runs; a second delete names what is missing', async () => {
    const r = await run('delete', 'nightly');
    expect(r.code, r.stderr).toBe(0);
    expect(jsonDocument('pipelines delete', r.stdout).deleted).toEqual(['cronjob/nightly']);
    expect(await cronJob()).toBeUndefined();
    const again = await koala(world, ['pipelines', 'delete', 'nightly', '-n', namespace]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`No pipeline "nightly" in namespace ${namespace}`);
  });
});
