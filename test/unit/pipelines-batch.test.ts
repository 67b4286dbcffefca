import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { expectBadInput } from '../support/config-errors.ts';
import { durationSeconds, renderBatch, type BatchPipeline } from '../../src/pipelines/batch.ts';
import { runRecord } from '../../src/pipelines/batch-run.ts';
import { scaffoldPipeline } from '../../src/pipelines/scaffold.ts';
import { podMemory, sparkStepContainer } from '../../src/pipelines/spark-step.ts';
import { loadPipeline } from '../../src/pipelines/stream.ts';

function file(text: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-batch-'));
  writeFileSync(path.join(dir, 'pipeline.yaml'), text);
  return path.join(dir, 'pipeline.yaml');
}

async function loadBatch(f: string): Promise<BatchPipeline> {
  const pipeline = await loadPipeline(f);
  if (pipeline.kind !== 'batch') throw new Error(`${f} is a ${pipeline.kind} pipeline`);
  return pipeline;
}

interface Container {
  name: string;
  [field: string]: unknown;
}
/** The rendered CronJob, as far as these tests read it. */
interface CronJobShape {
  metadata: { annotations?: Record<string, string> };
  spec: {
    suspend: boolean;
    jobTemplate: {
      spec: {
        backoffLimit: number;
        activeDeadlineSeconds?: number;
        template: {
          spec: { restartPolicy: string; initContainers?: Container[]; containers: Container[]; volumes: unknown[] };
        };
      };
    };
  };
}

const head = 'apiVersion: koala.dev/v1\nkind: Pipeline\nmetadata:\n  name: nightly\nspec:\n';
const GOOD =
  head +
  '  storage: true\n' +
  '  batchJob:\n' +
  '    steps:\n' +
  '      - name: extract\n' +
  '        image: registry.local/extract:1\n' +
  '        command: [python, extract.py]\n' +
  '        env: [{ name: DAY, value: "2026-11-30" }]\n' +
  '      - name: load\n' +
  '        image: registry.local/load:1\n' +
  '        args: [--table, events]\n' +
  '        resources: { limits: { memory: 256Mi } }\n' +
  '  strategy:\n' +
  '    cronExpression: "0/5 * * * *"\n' +
  '    expire: "2999-07-15 19:55:00"\n' +
  '    maxRetryCount: 2\n' +
  '    timeout: 1h30m\n';

const step = '      - name: s\n        image: i\n';
const BAD: Array<[string, string, RegExp]> = [
  ['no steps', head + '  batchJob: {}\n', /spec\.batchJob\.steps: is required/],
  ['an empty step list', head + '  batchJob:\n    steps: []\n', /spec\.batchJob\.steps: .*at least 1/],
  ['a step without an image', head + '  batchJob:\n    steps:\n      - name: s\n', /steps\.0\.image: is required/],
  ['a step without a name', head + '  batchJob:\n    steps:\n      - image: i\n', /steps\.0\.name: is required/],
  ['a step name twice', head + '  batchJob:\n    steps:\n' + step + step, /steps\.1\.name: "s" is used twice/],
  [
    "koala's own step name",
    head + '  batchJob:\n    steps:\n      - name: koala-expiry-gate\n        image: i\n',
    /steps\.0\.name: "koala-expiry-gate" is koala's own/,
  ],
  [
    'a step name that is not a DNS label',
    head + '  batchJob:\n    steps:\n      - name: Load_Data\n        image: i\n',
    /steps\.0\.name: "Load_Data" is not valid \(accepted: a DNS label/,
  ],
  [
    'a command that is not a list',
    head + '  batchJob:\n    steps:\n' + step + '        command: python run.py\n',
    /steps\.0\.command: .*list/,
  ],
  [
    'an env entry with a bad name',
    head + '  batchJob:\n    steps:\n' + step + '        env: [{ name: "1X", value: a }]\n',
    /steps\.0\.env\.0\.name: "1X" is not valid \(accepted: an environment variable name\)/,
  ],
  [
    'an unknown pull policy',
    head + '  batchJob:\n    steps:\n' + step + '        imagePullPolicy: Sometimes\n',
    /steps\.0\.imagePullPolicy: "Sometimes" is not one of the accepted values/,
  ],
  ['an unknown step field', head + '  batchJob:\n    steps:\n' + step + '        retries: 3\n', /steps\.0\.retries: /],
  [
    'a cron with 4 fields',
    head + '  batchJob:\n    steps:\n' + step + '  strategy:\n    cronExpression: "0 5 * *"\n',
    /spec\.strategy\.cronExpression: has 4 fields, not 5/,
  ],
  [
    'a cron with a seconds field',
    head + '  batchJob:\n    steps:\n' + step + '  strategy:\n    cronExpression: "0 0 5 * * *"\n',
    /spec\.strategy\.cronExpression: has 6 fields, not 5/,
  ],
  [
    'a timeout in words',
    head + '  batchJob:\n    steps:\n' + step + '  strategy:\n    timeout: ten minutes\n',
    /spec\.strategy\.timeout: "ten minutes" is not valid \(accepted: a duration such as "30s"/,
  ],
  [
    'a zero timeout',
    head + '  batchJob:\n    steps:\n' + step + '  strategy:\n    timeout: 0s\n',
    /spec\.strategy\.timeout: is zero/,
  ],
  [
    'a negative retry count',
    head + '  batchJob:\n    steps:\n' + step + '  strategy:\n    maxRetryCount: -1\n',
    /spec\.strategy\.maxRetryCount: /,
  ],
  [
    'a retry count as a string',
    head + '  batchJob:\n    steps:\n' + step + '  strategy:\n    maxRetryCount: "2"\n',
    /spec\.strategy\.maxRetryCount: /,
  ],
  [
    'both a stream and a batch job',
    head +
      '  batchJob:\n    steps:\n' +
      step +
      '  streamJob:\n    microServices: [{ name: a, spec: { containers: [{ name: c, image: i }] } }]\n',
    /spec\.batchJob: is given with spec\.streamJob/,
  ],
  [
    "the pipeline-operator's output adapters",
    head + '  batchJob:\n    outputs:\n      - name: output-ftp\n        ftp: { filename: test }\n',
    /spec\.batchJob\.outputs: names the pipeline-operator's adapters/,
  ],
  [
    'both an image and a Spark app',
    head + '  batchJob:\n    steps:\n      - name: s\n        image: i\n        sparkApp: pagerank\n',
    /steps\.0\.sparkApp: is given with image \(accepted: one of image \(a container\) and sparkApp/,
  ],
  [
    'a Spark app step with a command',
    head + '  batchJob:\n    steps:\n      - name: s\n        sparkApp: pagerank\n        command: [python]\n',
    /steps\.0\.command: is not used by a Spark app step/,
  ],
  [
    'storage that is not a boolean',
    head + '  storage: yes please\n  batchJob:\n    steps:\n' + step,
    /spec\.storage: /,
  ],
];

describe('a batch pipeline file: bad input names the file, line and field (exit 2)', () => {
  it.each(BAD)('%s', async (_name, text, expected) => {
    const f = file(text);
    await expectBadInput(loadPipeline(f), f, expected);
  });
});

describe('a batch pipeline becomes a CronJob whose Job runs the steps in order', () => {
  it('steps in order, then retries, timeout, schedule and history as Job and CronJob fields', async () => {
    const pipeline = await loadBatch(file(GOOD));
    expect(pipeline).toMatchObject({ schedule: '0/5 * * * *', maxRetryCount: 2, timeoutSeconds: 5400, storage: true });
    const cron = renderBatch(pipeline, {
      namespace: 'etl',
      labels: { 'koala.dev/pipeline': 'nightly' },
      gateImage: 'busybox:1',
      suspended: false,
    }) as unknown as CronJobShape;
    expect(cron.spec).toMatchObject({
      schedule: '0/5 * * * *',
      suspend: false,
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 10,
      failedJobsHistoryLimit: 10,
    });
    const job = cron.spec.jobTemplate.spec;
    expect(job.backoffLimit).toBe(3);
    expect(job.activeDeadlineSeconds).toBe(5400);
    const pod = job.template.spec;
    expect(pod.restartPolicy).toBe('OnFailure');
    expect(pod.initContainers?.map((c) => c.name)).toEqual(['koala-expiry-gate', 'extract']);
    expect(pod.containers.map((c) => c.name)).toEqual(['load']);
    const epoch = Math.floor(new Date('2999-07-15T19:55:00').getTime() / 1000);
    expect(cron.metadata.annotations?.['koala.dev/expire']).toBe(String(epoch));
    expect(pod.initContainers?.[0]).toMatchObject({
      image: 'busybox:1',
      command: ['sh', '-c', expect.stringContaining(`-ge ${epoch}`)],
    });
    expect(pod.initContainers?.[1]).toMatchObject({
      image: 'registry.local/extract:1',
      command: ['python', 'extract.py'],
      env: [
        { name: 'DAY', value: '2026-11-30' },
        { name: 'S3_BUCKET', valueFrom: { configMapKeyRef: { name: 'object-store', key: 'bucket' } } },
      ],
      envFrom: [{ secretRef: { name: 'object-store-s3' } }],
      terminationMessagePolicy: 'FallbackToLogsOnError',
      volumeMounts: [{ name: 'workspace', mountPath: '/workspace' }],
    });
    expect(pod.containers[0]).toMatchObject({
      args: ['--table', 'events'],
      resources: { limits: { memory: '256Mi' } },
    });
    expect(pod.volumes).toEqual([{ name: 'workspace', emptyDir: {} }]);
  });

  it('no schedule: a suspended CronJob (runs start by hand); stopped keeps the schedule off', async () => {
    const pipeline = await loadBatch(file(head + '  batchJob:\n    steps:\n' + step));
    expect(pipeline.maxRetryCount).toBe(0);
    const options = { namespace: 'etl', labels: {}, gateImage: 'b', suspended: false };
    const manual = renderBatch(pipeline, options) as unknown as CronJobShape;
    expect(manual.spec.suspend).toBe(true);
    expect(manual.metadata.annotations).toEqual({ 'koala.dev/manual-only': 'true' });
    expect(manual.spec.jobTemplate.spec.backoffLimit).toBe(1);
    expect(manual.spec.jobTemplate.spec.activeDeadlineSeconds).toBeUndefined();
    expect(manual.spec.jobTemplate.spec.template.spec.initContainers).toBeUndefined();
    const scheduled = await loadBatch(file(GOOD));
    const stopped = renderBatch(scheduled, { ...options, suspended: true }) as unknown as CronJobShape;
    expect(stopped.spec.suspend).toBe(true);
  });

  it('durations: hours, minutes and seconds', () => {
    expect(durationSeconds('30s')).toBe(30);
    expect(durationSeconds('15m')).toBe(900);
    expect(durationSeconds('1h30m5s')).toBe(5405);
  });
});

describe('a run record, from the Job and its pod', () => {
  const job = (status: V1Job['status'], created = '2026-11-30T10:00:00Z'): V1Job => ({
    metadata: { name: 'nightly-m1', creationTimestamp: new Date(created), annotations: {} },
    spec: {
      template: {
        spec: {
          initContainers: [
            { name: 'extract', image: 'i' },
            { name: 'flaky', image: 'i' },
          ],
          containers: [{ name: 'load', image: 'i' }],
        },
      },
    },
    status,
  });
  const pod: V1Pod = {
    metadata: { name: 'nightly-m1-x', labels: { 'job-name': 'nightly-m1' } },
    status: {
      initContainerStatuses: [
        {
          name: 'extract',
          image: 'i',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode: 0 } },
        },
        {
          name: 'flaky',
          image: 'i',
          imageID: '',
          ready: false,
          restartCount: 1,
          state: { terminated: { exitCode: 0 } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', message: 'first attempt fails\n' } },
        },
      ],
      containerStatuses: [
        { name: 'load', image: 'i', imageID: '', ready: false, restartCount: 0, state: { running: {} } },
      ],
    },
  };

  it('a step that failed once, then passed: 2 attempts and the first reason; the others ran once', () => {
    const record = runRecord(job({ startTime: new Date('2026-11-30T10:00:01Z') }), [pod]);
    expect(record).toMatchObject({
      run: 'nightly-m1',
      trigger: 'schedule',
      state: 'running',
      start: '2026-11-30T10:00:01.000Z',
    });
    expect(record.steps).toEqual([
      { name: 'extract', state: 'succeeded', attempts: 1, exitCode: 0 },
      {
        name: 'flaky',
        state: 'succeeded',
        attempts: 2,
        exitCode: 0,
        previousFailure: 'exit 1 (Error): first attempt fails',
      },
      { name: 'load', state: 'running', attempts: 1 },
    ]);
  });

  it('a failed Job whose pod is gone: the Job reason, and an expired run says so', () => {
    const failed = {
      startTime: new Date('2026-11-30T10:00:01Z'),
      conditions: [
        {
          type: 'Failed',
          status: 'True',
          reason: 'BackoffLimitExceeded',
          message: 'Job has reached the specified backoff limit',
          lastTransitionTime: new Date('2026-11-30T10:01:00Z'),
        },
      ],
    };
    const record = runRecord(job(failed), []);
    expect(record.state).toBe('failed');
    expect(record.end).toBe('2026-11-30T10:01:00.000Z');
    expect(record.reason).toBe('BackoffLimitExceeded: Job has reached the specified backoff limit');
    expect(record.steps.map((s) => s.state)).toEqual(['unknown', 'unknown', 'unknown']);
    const expired = runRecord(job(failed), [], new Date('2026-11-30T09:00:00Z'));
    expect(expired.reason).toBe('expired: the run started after 2026-11-30T09:00:00.000Z, so no step ran');
  });
});

describe('a Spark app step: spark-submit in client mode, configured as `koala run` configures the app', () => {
  const app = {
    apiVersion: 'sparkoperator.k8s.io/v1beta2',
    kind: 'SparkApplication',
    metadata: { name: 'pagerank-0', namespace: 'spark-jobs', labels: { 'koala.dev/app': 'pagerank' } },
    spec: {
      image: 'localhost:5001/koala/pagerank:abc',
      mainApplicationFile: 'local:///app/pagerank.py',
      arguments: ['--iterations', '10'],
      driver: { cores: 1, coreRequest: '250m', memory: '512m' },
      executor: { cores: 1, coreRequest: '250m', memory: '512m', instances: 3 },
      sparkConf: {
        'spark.hadoop.fs.s3a.endpoint': 'http://minio.object-store:9000',
        'spark.kubernetes.driverEnv.GREETING': 'hi',
        'spark.executorEnv.GREETING': 'hi',
        'spark.kubernetes.driver.secretKeyRef.AWS_ACCESS_KEY_ID': 'object-store-s3:AWS_ACCESS_KEY_ID',
        'spark.kubernetes.executor.secretKeyRef.AWS_ACCESS_KEY_ID': 'object-store-s3:AWS_ACCESS_KEY_ID',
      },
    },
  };

  it('the driver is the container: its env, the executors by conf, the main file and its arguments', () => {
    const c = sparkStepContainer('rank', app) as {
      command: string[];
      args: string[];
      env: unknown[];
      resources: unknown;
    };
    expect(c.command).toEqual(['/opt/spark/bin/spark-submit']);
    const confs = c.args.flatMap((a, i) => (c.args[i - 1] === '--conf' ? [a] : []));
    expect(confs).toEqual(
      expect.arrayContaining([
        'spark.kubernetes.namespace=spark-jobs',
        'spark.kubernetes.container.image=localhost:5001/koala/pagerank:abc',
        'spark.driver.host=$(KOALA_POD_IP)',
        'spark.kubernetes.driver.pod.name=$(KOALA_POD_NAME)',
        'spark.executor.instances=3',
        'spark.executor.memory=512m',
        'spark.kubernetes.executor.request.cores=250m',
        'spark.hadoop.fs.s3a.endpoint=http://minio.object-store:9000',
        'spark.executorEnv.GREETING=hi',
        'spark.kubernetes.executor.secretKeyRef.AWS_ACCESS_KEY_ID=object-store-s3:AWS_ACCESS_KEY_ID',
      ]),
    );
    expect(confs.some((x) => x.startsWith('spark.kubernetes.driverEnv.'))).toBe(false);
    expect(confs.some((x) => x.startsWith('spark.kubernetes.driver.secretKeyRef.'))).toBe(false);
    expect(c.args.slice(0, 6)).toEqual([
      '--master',
      'k8s://https://kubernetes.default.svc',
      '--deploy-mode',
      'client',
      '--name',
      'pagerank',
    ]);
    expect(c.args.slice(-3)).toEqual(['/app/pagerank.py', '--iterations', '10']);
    expect(c.env).toEqual(
      expect.arrayContaining([
        { name: 'GREETING', value: 'hi' },
        {
          name: 'AWS_ACCESS_KEY_ID',
          valueFrom: { secretKeyRef: { name: 'object-store-s3', key: 'AWS_ACCESS_KEY_ID' } },
        },
        { name: 'KOALA_POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      ]),
    );
    expect(c.resources).toEqual({ requests: { cpu: '250m', memory: '896Mi' } });
  });

  it("Spark's memory with its overhead, as a Kubernetes quantity", () => {
    expect(podMemory('512m')).toBe('896Mi');
    expect(podMemory('4g')).toBe('4506Mi');
    expect(podMemory('1024k')).toBe('385Mi');
  });
});

describe('koala new pipeline: what it writes deploys as written', () => {
  it('a batch pipeline (with a step for the Spark app when there is one) and a stream pipeline', async () => {
    const project = mkdtempSync(path.join(os.tmpdir(), 'koala-new-pipeline-'));
    const plain = await scaffoldPipeline(project, { name: 'nightly', kind: 'batch', schedule: '0 2 * * *' });
    const batch = await loadBatch(plain.file);
    expect(batch).toMatchObject({ schedule: '0 2 * * *', maxRetryCount: 2, timeoutSeconds: 1800, storage: true });
    expect(batch.steps.map((s) => s.name)).toEqual(['prepare']);
    mkdirSync(path.join(project, 'spark-applications', 'pagerank'), { recursive: true });
    const withApp = await loadBatch((await scaffoldPipeline(project, { name: 'ranks', kind: 'batch' })).file);
    expect(withApp.schedule).toBeUndefined();
    expect(withApp.steps.map((s) => `${s.name}:${s.sparkApp ?? s.image}`)).toEqual([
      'prepare:busybox:1.37.0',
      'spark:pagerank',
    ]);
    const stream = await loadPipeline((await scaffoldPipeline(project, { name: 'ingest', kind: 'stream' })).file);
    expect(stream.kind).toBe('stream');
    await expect(scaffoldPipeline(project, { name: 'ingest', kind: 'stream' })).rejects.toThrow(/already exists/);
    await expect(scaffoldPipeline(project, { name: 'x', kind: 'batch', schedule: '0 2 * *' })).rejects.toThrow(
      /--schedule "0 2 \* \*": has 4 fields, not 5/,
    );
    await expect(scaffoldPipeline(project, { name: 'Bad_Name', kind: 'batch' })).rejects.toThrow(/not a valid/);
  });
});
