/**
 * `koala pipelines deploy|stop|start|status` against the test bed's API server, whose
 * controller-manager makes the ReplicaSets and pods and whose kwok marks the pods Running: the
 * pipeline-operator's own stream pipeline deploys, stops to 0 pods, stays stopped across a
 * deploy, starts back to the replicas its file declares, and an expired one is refused.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { koala } from '../support/cli.ts';
import { STREAM_PIPELINE } from '../support/datatask-seed.ts';
import { jsonDocument } from '../support/json-documents.ts';
import { jobsWorld } from './jobs-world.ts';
import { listPipelines } from '../../src/tasks/health.ts';
import { testbedKube } from '../support/testbed.ts';

const namespace = `pipes-${randomBytes(3).toString('hex')}`;
let world: ReturnType<typeof jobsWorld>;
let file = '';

// Not expired, and two replicas for the first micro-service.
const pipeline = STREAM_PIPELINE.replace('2019-07-15 15:22:00', '2999-01-01 00:00:00').replace(
  'replicas: 1',
  'replicas: 2',
);
const run = (...args: string[]) => koala(world, ['pipelines', ...args, '-n', namespace, '--json']);

async function statusWhen(want: (s: ReturnType<typeof parse>) => boolean): Promise<ReturnType<typeof parse>> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const s = parse((await run('status', 'pipeline-test-2')).stdout);
    if (want(s)) return s;
    if (Date.now() > deadline) throw new Error(`status never got there: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}
const parse = (stdout: string) => {
  const document = jsonDocument('pipelines status', stdout);
  if (document.kind !== 'stream') throw new Error(`not a stream pipeline: ${stdout}`);
  return document;
};
const running = (s: ReturnType<typeof parse>) =>
  s.components.map((c) => `${c.component}:${c.pods.filter((p) => p.phase === 'Running').length}`);

beforeAll(() => {
  world = jobsWorld({ jobNamespaces: ['spark-jobs'], fakes: ['kind'] });
  file = path.join(world.project, 'pipeline.yaml');
  writeFileSync(file, pipeline);
});
afterAll(() => {
  if (!world) return;
  execFileSync('kubectl', ['--kubeconfig', world.env.KUBECONFIG!, 'delete', 'namespace', namespace, '--wait=false'], {
    stdio: 'ignore',
  });
});

describe('koala pipelines: a stream pipeline (test bed API server, controllers and kwok pods)', () => {
  it('deploys a Deployment per micro-service and its pods run', async () => {
    const r = await run('deploy', file);
    expect(r.code, r.stderr).toBe(0);
    expect(jsonDocument('pipelines deploy', r.stdout).objects.map((o) => `${o.kind}/${o.name}:${o.action}`)).toEqual([
      'Deployment/pipeline-test-2-micro-service-1:created',
      'Deployment/pipeline-test-2-micro-service-2:created',
    ]);
    const s = await statusWhen((x) => x.healthy && running(x).join() === 'micro-service-1:2,micro-service-2:1');
    expect(s.stopped).toBe(false);
    const again = jsonDocument('pipelines deploy', (await run('deploy', file)).stdout);
    expect(again.objects.every((o) => o.action === 'unchanged')).toBe(true);
  });

  it('stop takes every micro-service to 0 pods, and a deploy keeps it stopped', async () => {
    const r = await run('stop', 'pipeline-test-2');
    expect(r.code, r.stderr).toBe(0);
    expect(jsonDocument('pipelines stop', r.stdout).changed).toHaveLength(2);
    const s = await statusWhen((x) => x.components.every((c) => c.pods.length === 0));
    expect(s.stopped).toBe(true);
    expect(s.components.map((c) => `${c.component}:${c.desired}/${c.replicas}`)).toEqual([
      'micro-service-1:0/2',
      'micro-service-2:0/1',
    ]);
    expect((await run('deploy', file)).code).toBe(0);
    expect(parse((await run('status', 'pipeline-test-2')).stdout).components.map((c) => c.desired)).toEqual([0, 0]);
    expect(jsonDocument('pipelines stop', (await run('stop', 'pipeline-test-2')).stdout).changed).toEqual([]);
    // What `koala status` lists for it.
    expect(await listPipelines(await testbedKube(), namespace)).toEqual([
      { name: 'pipeline-test-2', kind: 'stream pipeline', ok: true, detail: 'stopped (2 micro-services)' },
    ]);
  });

  it('start brings back the same replicas', async () => {
    const r = await run('start', 'pipeline-test-2');
    expect(r.code, r.stderr).toBe(0);
    const s = await statusWhen((x) => x.healthy && running(x).join() === 'micro-service-1:2,micro-service-2:1');
    expect(s.stopped).toBe(false);
    const plain = await koala(world, ['pipelines', 'status', 'pipeline-test-2', '-n', namespace]);
    expect(plain.stdout).toMatch(/micro-service-1\s+2\/2\s+pipeline-test-2-micro-service-1-\S+\s+Running, ready/);
    expect(await listPipelines(await testbedKube(), namespace)).toEqual([
      {
        name: 'pipeline-test-2',
        kind: 'stream pipeline',
        ok: true,
        detail: '3/3 replicas ready in 2 micro-services',
      },
    ]);
  });

  it('an expired pipeline is refused (exit 2) and an unknown one is named', async () => {
    writeFileSync(file, STREAM_PIPELINE);
    const expired = await koala(world, ['pipelines', 'deploy', file, '-n', namespace]);
    expect(expired.code).toBe(2);
    expect(expired.stderr).toContain('Pipeline "pipeline-test-2" expired on 2019-07-15');
    const unknown = await koala(world, ['pipelines', 'stop', 'nope', '-n', namespace]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain(`No pipeline "nope" in namespace ${namespace}`);
  });
});
