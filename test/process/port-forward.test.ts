import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { resolveService } from '../../src/jobs/forward.ts';
import { koala, startKoala, waitForOutput } from '../support/cli.ts';
import { FIXTURES, finishDriver, useSparkOperator, waitForDriver } from '../support/spark.ts';
import { kubectl, testbedKube, useNamespace } from '../support/testbed.ts';
import { jobsWorld } from './jobs-world.ts';
import { jsonDocument } from '../support/json-documents.ts';

/**
 * `koala port-forward`: a local port, through the API server's portforward subresource (kwok
 * plays the kubelet and connects to a local HTTP server standing in for the Spark UI).
 */
const ns = useNamespace('spark-pf');
useSparkOperator(() => [ns.name]);
let server: http.Server;
let hits = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits += 1;
    res.end(`spark ui: ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const kube = await testbedKube();
  await kube.apply({
    apiVersion: 'kwok.x-k8s.io/v1alpha1',
    kind: 'ClusterPortForward',
    metadata: { name: `koala-test-${ns.name}` },
    spec: {
      selector: { matchNamespaces: [ns.name] },
      forwards: [
        { ports: [4040, 8080], target: { address: '127.0.0.1', port: (server.address() as AddressInfo).port } },
      ],
    },
  });
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

async function get(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  return response.text();
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

describe('koala port-forward (real API server, kwok port-forward)', () => {
  it('serves the Spark UI of a run on a free port, follows a replaced driver, leaves nothing on Ctrl-C', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    const doc = parse(readFileSync(path.join(FIXTURES, 'example-spark-pi-python.yaml'), 'utf8')) as {
      metadata: { name: string };
      spec: Record<string, unknown>;
    };
    doc.metadata.name = 'ui';
    doc.spec.restartPolicy = { type: 'OnFailure', onFailureRetries: 1, onFailureRetryInterval: 1 };
    writeFileSync(path.join(world.project, 'ui.yaml'), stringify(doc));
    expect((await koala(world, ['run', '-f', 'ui.yaml', '-n', ns.name, '--detach'])).code).toBe(0);
    await waitForDriver(ns.name, 'ui-1', 'Running');

    const pf = startKoala(world, ['port-forward', 'ui']);
    await waitForOutput(pf.output, /Forwarding http:\/\/127\.0\.0\.1:\d+\//);
    const url = /Forwarding (http:\/\/127\.0\.0\.1:(\d+)\/)/.exec(pf.output())!;
    const port = Number(url[2]);
    expect(await get(`${url[1]}jobs/`)).toBe('spark ui: /jobs/');
    const before = hits;

    // The driver fails and the operator starts a new one: same name, new pod.
    const firstUid = kubectl(['-n', ns.name, 'get', 'pod', 'ui-1-driver', '-o', 'jsonpath={.metadata.uid}']);
    await finishDriver(ns.name, 'ui-1', 'failed');
    for (let i = 0; i < 240; i++) {
      const line = kubectl([
        '-n',
        ns.name,
        'get',
        'pods',
        '-l',
        'spark-role=driver,sparkoperator.k8s.io/app-name=ui-1',
        '-o',
        'jsonpath={range .items[*]}{.metadata.uid} {.status.phase}{end}',
      ]).trim();
      if (line && !line.startsWith(firstUid) && line.endsWith('Running')) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(await get(`${url[1]}stages/`)).toBe('spark ui: /stages/');
    expect(hits).toBe(before + 1);
    await waitForOutput(pf.output, /now forwarding to ui-1-driver \(the pod was replaced\)/);

    pf.child.kill('SIGINT');
    const result = await pf.done;
    expect(result.code).toBe(0);
    expect(await refused(port)).toBe(true);
    await finishDriver(ns.name, 'ui-1', 'succeeded');
    for (
      let i = 0;
      i < 240 &&
      kubectl(['-n', ns.name, 'get', 'sparkapplication', 'ui-1', '-o', 'jsonpath={.status.applicationState.state}']) !==
        'COMPLETED';
      i++
    )
      await new Promise((r) => setTimeout(r, 250));
  });

  it('a run whose driver is not running, and an unknown target, are errors that say why', async () => {
    const world = jobsWorld({ jobNamespaces: [ns.name] });
    const done = await koala(world, ['port-forward', 'ui-1', '--json']);
    expect(done.code).toBe(1);
    expect(jsonDocument('error', done.stdout).error.message).toMatch(/The driver of ui-1 is not running/);
    const unknown = await koala(world, ['port-forward', 'nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/No run or app named "nope"/);
  });

  it('resolves a named service to a ready pod and its target port (Service → pod)', async () => {
    const kube = await testbedKube();
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'console', namespace: ns.name },
      spec: { selector: { app: 'console' }, ports: [{ port: 9001, targetPort: 'http' }] },
    });
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'console-0', namespace: ns.name, labels: { app: 'console' } },
      spec: { containers: [{ name: 'c', image: 'x', ports: [{ name: 'http', containerPort: 8080 }] }] },
    });
    let target;
    for (let i = 0; i < 100 && !target; i++) {
      target = await resolveService(kube, { namespace: ns.name, name: 'console', port: 9001 }).catch(() => undefined);
      if (!target) await new Promise((r) => setTimeout(r, 200));
    }
    expect(target).toMatchObject({ namespace: ns.name, pod: 'console-0', port: 8080 });
    await expect(resolveService(kube, { namespace: ns.name, name: 'absent', port: 1 })).rejects.toThrow(
      /does not exist/,
    );
  });
});
