/**
 * Status benchmark of the Spark job loop: the time from a status change on the API server to
 * koala reporting it, against a 1-second polling loop (what `watch kubectl get sparkapp` or sparkctl's loops
 * do), both measured in the same run on the same changes.
 *
 * A SparkApplication is created on a test-bed API server and its status is changed N times at
 * random moments (so the poller's phase is uniform); koala's followRun() (the code behind
 * `koala run`) and the poller run side by side in this process. Latency is from the moment
 * the PATCH is sent, so it includes the write itself.
 *
 *   node bench/spark-status-latency.ts      (BENCH_CHANGES=20 by default)
 */
import { Kube } from '../src/kube/client.ts';
import { followRun } from '../src/jobs/follow.ts';
import { median, percentile, startBed } from './lib/testbed.ts';

const changes = Number(process.env.BENCH_CHANGES ?? 20);
const POLL_MS = 1000;
const bed = startBed();
try {
  const kube = await Kube.connect({ kubeconfig: bed.kubeconfig, context: `kind-${bed.cluster}` });
  const name = 'latency';
  const path = `/apis/sparkoperator.k8s.io/v1beta2/namespaces/${bed.namespace}/sparkapplications`;
  const created = await kube.raw(path, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'sparkoperator.k8s.io/v1beta2',
      kind: 'SparkApplication',
      metadata: { name, namespace: bed.namespace },
      spec: {
        type: 'Python',
        mode: 'cluster',
        image: 'x',
        mainApplicationFile: 'local:///app/x.py',
        sparkVersion: '4.0.4',
        driver: { cores: 1 },
        executor: { instances: 1 },
      },
    }),
  });
  if (created.status !== 201) throw new Error(`create failed: ${created.status} ${created.body}`);

  // The changes: states alternate (so each is a change), the last one is terminal.
  const states = Array.from({ length: changes }, (_, i) =>
    i === changes - 1 ? 'COMPLETED' : i % 2 === 0 ? 'RUNNING' : 'PENDING_RERUN',
  );
  const sentAt = new Map<number, number>();
  const seenByWatch = new Map<number, number>();
  const seenByPoll = new Map<number, number>();
  let current = -1; // the change in flight

  const stop = new AbortController();
  const following = followRun(kube, {
    namespace: bed.namespace,
    name,
    signal: stop.signal,
    logs: false,
    onEvent: (event) => {
      if (event.type === 'state' && current >= 0 && event.state === states[current] && !seenByWatch.has(current))
        seenByWatch.set(current, performance.now());
    },
  });
  const polling = (async () => {
    let last = '';
    while (!stop.signal.aborted) {
      const { body } = await kube.raw(`${path}/${name}`);
      const state =
        (JSON.parse(body) as { status?: { applicationState?: { state?: string } } }).status?.applicationState?.state ??
        '';
      if (state !== last && current >= 0 && state === states[current] && !seenByPoll.has(current))
        seenByPoll.set(current, performance.now());
      last = state;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  })();

  await new Promise((r) => setTimeout(r, 1500)); // both are listening
  for (let i = 0; i < changes; i++) {
    current = i;
    sentAt.set(i, performance.now());
    const patched = await kube.raw(`${path}/${name}/status`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/merge-patch+json' },
      body: JSON.stringify({ status: { applicationState: { state: states[i] }, driverInfo: {} } }),
    });
    if (patched.status !== 200) throw new Error(`status patch failed: ${patched.status} ${patched.body}`);
    // Wait until both saw it, then a random pause so the poller's phase is uniform.
    for (let t = 0; t < 300 && !(seenByWatch.has(i) && seenByPoll.has(i)); t++)
      await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, Math.random() * POLL_MS));
  }
  const result = await following;
  stop.abort();
  await polling;

  const lat = (seen: Map<number, number>): number[] => [...seen].map(([i, t]) => t - sentAt.get(i)!);
  const watch = lat(seenByWatch);
  const poll = lat(seenByPoll);
  console.log(`Status change → report latency, ${changes} changes (final state ${result.state})`);
  const ms = (n: number): string => `${n.toFixed(1).padStart(7)} ms`;
  const row = (l: number[]): string =>
    `median ${ms(median(l))}   p95 ${ms(percentile(l, 95))}   seen ${l.length}/${changes}`;
  console.log(`  koala (watch)        ${row(watch)}`);
  console.log(`  1-second polling     ${row(poll)}`);
  console.log(`  ratio: polling/koala ${(median(poll) / median(watch)).toFixed(1)}x (median)`);
} finally {
  bed.stop();
}
