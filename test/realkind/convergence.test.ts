/**
 * The convergence table on real kind, for the cluster and registry steps: `koala up` stopped at
 * the start of each of the 7 steps, in the middle of the long ones, and by a failing tool at each
 * step that runs one; then a plain `koala up`, whose end state must equal that of an
 * uninterrupted run: the same containers (names, roles, running), every node Ready, the registry
 * container on the "kind" network, the same hosts.toml on every node, the same ConfigMaps in
 * kube-public, and no other container, network, volume or kubeconfig context in the kind daemon.
 *
 * kind and docker are the real ones behind the recording wrappers test/fakes/bin/{kind,docker}
 * in pass-through mode (KOALA_REAL_KIND, KOALA_REAL_DOCKER), so a fault can stop koala (SIGINT
 * to koala while the real tool works on) or fail the call (before the real tool runs, after it,
 * or by killing it at a line of its output). A point for the cluster steps starts from nothing
 * (`koala down`); one for the registry steps from the converged cluster with that step's work
 * undone. Opt-in (KOALA_TEST_CONVERGENCE=1, project realkind-convergence); the table is printed
 * with the test's output.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { koala, startKoala, waitForOutput, type KoalaResult } from '../support/cli.ts';
import { REPO } from '../support/testbed.ts';
import { describeStop, type Outcome } from '../convergence/world.ts';
import { docker, env, kubectl, realWorld, skipReason, sleep, type RealWorld } from './support.ts';

if (skipReason) console.warn(skipReason);

const FAKES = path.join(REPO, 'test/fakes/bin');
const hostsFile = (w: RealWorld): string => `/etc/containerd/certs.d/localhost:${w.registryPort}/hosts.toml`;
const lines = (s: string): string[] => s.split('\n').filter(Boolean);

/** What the kind daemon and the cluster hold, one fact a line; compared as multisets. */
function endState(world: RealWorld): string[] {
  const state: string[] = [];
  // This world's containers, named volumes and kind-network endpoints: other runs (the realkind
  // project, say) may share the daemon. Networks and dangling volumes are the daemon's.
  const mine = (name: string): boolean =>
    name.startsWith(`${world.name}-`) || name === world.registry || name.startsWith(`${world.registry}-`);
  const containers = lines(docker('ps', '-a', '--format', '{{.Names}} {{.Label "io.x-k8s.kind.role"}} {{.State}}'))
    .map((l) => l.trim())
    .filter((l) => mine(l.split(' ')[0]!));
  for (const c of containers) state.push(`container ${c}`);
  for (const n of lines(docker('network', 'ls', '--format', '{{.Name}}'))) state.push(`network ${n}`);
  const anonymous = /^[0-9a-f]{64}$/;
  for (const v of lines(docker('volume', 'ls', '-q')).filter(mine)) state.push(`volume ${v}`);
  const mounts = lines(
    docker(
      'inspect',
      '-f',
      '{{range .Mounts}}{{if eq .Type "volume"}}{{.Name}}{{"\\n"}}{{end}}{{end}}',
      ...containers.map((c) => c.split(' ')[0]!),
    ),
  );
  state.push(`anonymous volumes of these containers: ${mounts.filter((v) => anonymous.test(v)).length}`);
  for (const v of lines(docker('volume', 'ls', '-q', '--filter', 'dangling=true'))) state.push(`dangling volume ${v}`);
  state.push(
    `registry ${docker('inspect', '-f', '{{.Config.Image}} {{json .HostConfig.PortBindings}}', world.registry)}`,
  );
  for (const n of lines(docker('network', 'inspect', 'kind', '-f', '{{range .Containers}}{{.Name}}\n{{end}}')))
    if (mine(n)) state.push(`on the kind network: ${n}`);
  const nodes = lines(
    kubectl(world, [
      'get',
      'nodes',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name} Ready={.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
    ]),
  );
  for (const n of nodes) state.push(`node ${n}`);
  for (const n of nodes.map((l) => l.split(' ')[0]!)) {
    const toml = docker('exec', n, 'cat', hostsFile(world));
    state.push(`hosts.toml on ${n}: ${JSON.stringify(toml)}`);
  }
  for (const cm of ['local-registry-hosting', 'koala-cluster-spec'])
    state.push(
      `kube-public/${cm}: ${kubectl(world, ['get', 'configmap', '-n', 'kube-public', cm, '-o', 'jsonpath={.data}'])}`,
    );
  for (const c of lines(kubectl(world, ['config', 'get-contexts', '-o', 'name']))) state.push(`context ${c}`);
  return state.sort();
}

/** What a stopped run left: node containers, and the registry's state and network. */
function leftBehind(world: RealWorld): string {
  const nodes = lines(
    docker('ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${world.name}`, '--format', '{{.Names}}'),
  ).length;
  let registry = 'no registry';
  try {
    const status = docker(
      'inspect',
      '-f',
      '{{.State.Status}} {{index .NetworkSettings.Networks "kind"}}',
      world.registry,
    );
    registry = `registry ${status.split(' ')[0]}${/<nil>|<no value>/.test(status) ? '' : ' on kind'}`;
  } catch {
    // no container by that name
  }
  return `${nodes} node containers, ${registry}`;
}

function difference(expected: string[], actual: string[]): string {
  const count = (list: string[]): Map<string, number> => {
    const m = new Map<string, number>();
    for (const l of list) m.set(l, (m.get(l) ?? 0) + 1);
    return m;
  };
  const want = count(expected);
  const have = count(actual);
  const out: string[] = [];
  for (const [l, n] of want) if ((have.get(l) ?? 0) < n) out.push(`missing: ${l}`);
  for (const [l, n] of have) if ((want.get(l) ?? 0) < n) out.push(`extra: ${l}`);
  return out.join('\n');
}

/** Ctrl-C (SIGINT to koala) `ms` after the step's start line shows in the plain output. */
async function interruptAfterStart(world: RealWorld, step: string, ms = 0): Promise<KoalaResult> {
  const run = startKoala(world, ['up']);
  await waitForOutput(run.output, new RegExp(`^\\[${step}\\] `, 'm'), 600_000);
  if (ms) await sleep(ms);
  run.child.kill('SIGINT');
  return run.done;
}

type Fault = Parameters<RealWorld['fault']>[0];
const withFault =
  (fault: Fault) =>
  (world: RealWorld): Promise<KoalaResult> => {
    world.fault({ times: 1, ...fault });
    return koala(world, ['up']);
  };

/** How a point starts: from nothing, or from the converged cluster with one step's work undone. */
type Start = 'nothing' | 'registry' | 'registry-network' | 'registry-hosts' | 'registry-hosting' | 'cluster-spec';

interface Point {
  name: string;
  step: string;
  from: Start;
  /** The exit code of the stopped run: 130 for Ctrl-C, 1 for a failing tool. */
  code: number;
  stop(world: RealWorld): Promise<KoalaResult>;
}

const atStart = (step: string, from: Start): Point => ({
  name: `Ctrl-C: ${step}, at its start`,
  step,
  from,
  code: 130,
  stop: (w) => interruptAfterStart(w, step),
});
const midway = (step: string, from: Start, what: string, fault: Omit<Fault, 'mode'>): Point => ({
  name: `Ctrl-C: ${step}, in the middle (${what})`,
  step,
  from,
  code: 130,
  stop: withFault({ ...fault, mode: 'interrupt' }),
});
const failing = (step: string, from: Start, what: string, fault: Omit<Fault, 'mode'>): Point => ({
  name: `fails: ${step}, ${what}`,
  step,
  from,
  code: 1,
  stop: withFault({ ...fault, mode: 'fail' }),
});

// The registry points first, on the reference cluster; the cluster points after, each from nothing.
const POINTS: Point[] = [
  atStart('registry', 'registry'),
  midway('registry', 'registry', 'docker run of the registry, 150 ms in', {
    tool: 'docker',
    args: 'run -d --restart=always',
    delayMs: 150,
  }),
  failing('registry', 'registry', 'docker run fails before it runs', {
    tool: 'docker',
    args: 'run -d --restart=always',
    exitCode: 125,
    stderr: 'docker: Error response from daemon: driver failed programming external connectivity on endpoint.',
  }),
  failing('registry', 'registry', 'docker run made and started the container, then fails', {
    tool: 'docker',
    args: 'run -d --restart=always',
    after: true,
    exitCode: 125,
    stderr: 'docker: Error response from daemon: driver failed programming external connectivity on endpoint.',
  }),
  atStart('registry-network', 'registry-network'),
  midway('registry-network', 'registry-network', 'docker network connect, 50 ms in', {
    tool: 'docker',
    args: 'network connect',
    delayMs: 50,
  }),
  failing('registry-network', 'registry-network', 'docker network connect fails', {
    tool: 'docker',
    args: 'network connect',
    stderr: 'Error response from daemon: failed to add interface to sandbox: operation not permitted',
  }),
  atStart('registry-hosts', 'registry-hosts'),
  midway('registry-hosts', 'registry-hosts', 'docker exec writing hosts.toml, 50 ms in', {
    tool: 'docker',
    args: 'exec -i',
    delayMs: 50,
  }),
  failing('registry-hosts', 'registry-hosts', 'docker exec writing hosts.toml fails on one node', {
    tool: 'docker',
    args: 'exec -i',
    stderr: 'Error response from daemon: container is restarting, wait until the container is running',
  }),
  atStart('registry-hosting', 'registry-hosting'),
  atStart('cluster-spec', 'cluster-spec'),
  atStart('cluster', 'nothing'),
  midway('cluster', 'nothing', 'kind create, 5 s after "Starting control-plane"', {
    tool: 'kind',
    args: 'create cluster',
    atLine: 'Starting control-plane',
    delayMs: 5_000,
  }),
  failing('cluster', 'nothing', 'kind create fails before it runs', {
    tool: 'kind',
    args: 'create cluster',
    stderr: 'ERROR: failed to create cluster: failed to join node with kubeadm',
  }),
  failing('cluster', 'nothing', 'kind create killed 5 s after "Starting control-plane"', {
    tool: 'kind',
    args: 'create cluster',
    atLine: 'Starting control-plane',
    delayMs: 5_000,
    stderr: 'ERROR: failed to create cluster: kind was killed',
  }),
  atStart('nodes-ready', 'nothing'),
  {
    name: 'Ctrl-C: nodes-ready, in the middle (3 s into the wait)',
    step: 'nodes-ready',
    from: 'nothing',
    code: 130,
    stop: (w) => interruptAfterStart(w, 'nodes-ready', 3_000),
  },
];

/** Undo what the point's start needs undone on the converged cluster. */
async function prepare(world: RealWorld, from: Start): Promise<void> {
  switch (from) {
    case 'nothing': {
      const down = await koala(world, ['down', '--yes']);
      if (down.code !== 0) throw new Error(`down failed: ${down.stdout}${down.stderr}`);
      return;
    }
    case 'registry':
      return void docker('rm', '-f', world.registry);
    case 'registry-network':
      return void docker('network', 'disconnect', 'kind', world.registry);
    case 'registry-hosts':
      // The worker holds a stale hosts.toml, the control plane none.
      docker('exec', `${world.name}-control-plane`, 'rm', '-f', hostsFile(world));
      return void docker(
        'exec',
        `${world.name}-worker`,
        'sh',
        '-c',
        `printf '[host."http://elsewhere:5000"]\\n' > '${hostsFile(world)}'`,
      );
    case 'registry-hosting':
      return void kubectl(world, ['delete', 'configmap', '-n', 'kube-public', 'local-registry-hosting']);
    case 'cluster-spec':
      return void kubectl(world, ['delete', 'configmap', '-n', 'kube-public', 'koala-cluster-spec']);
  }
}

const seconds = (ms: number): string => `${Math.round(ms / 1000)} s`;

describe.skipIf(Boolean(skipReason))(
  'real kind: koala up stopped at each cluster and registry step, then again',
  () => {
    let world: RealWorld;
    let reference: string[] = [];
    const outcomes: Array<Outcome & { left: string; times: string }> = [];

    beforeAll(async () => {
      world = await realWorld({ controlPlanes: 1, workers: 1 });
      Object.assign(world.env, {
        KOALA_KIND: path.join(FAKES, 'kind'),
        KOALA_REAL_KIND: env().kind,
        KOALA_DOCKER: path.join(FAKES, 'docker'),
        KOALA_REAL_DOCKER: 'docker',
      });
      const first = await koala(world, ['up']);
      expect(first.code, first.stdout + first.stderr).toBe(0);
      reference = endState(world);
    }, 900_000);

    afterAll(async () => {
      const rows = outcomes.map(
        (o) => `| ${o.point} | ${o.stopped} | ${o.left} | ${o.resumed} | ${o.times} | ${o.converged ? 'yes' : 'NO'} |`,
      );
      console.log(
        [
          '\nreal kind, koala up stopped, then koala up again (1 control plane, 1 worker):',
          '| point | stopped run | it left | next run | stopped + next | converged |',
          '| --- | --- | --- | --- | --- | --- |',
          ...rows,
          ...outcomes.filter((o) => !o.converged).map((o) => `\n${o.point}:\n${o.detail}`),
          '',
        ].join('\n'),
      );
      if (world) {
        const down = await koala(world, ['down', '--yes']);
        expect(down.code, down.stdout + down.stderr).toBe(0);
      }
    }, 600_000);

    it('the reference: an uninterrupted up makes 2 Ready nodes, the registry on "kind", hosts.toml on each', () => {
      expect(reference).toContain(`node ${world.name}-control-plane Ready=True`);
      expect(reference).toContain(`node ${world.name}-worker Ready=True`);
      expect(reference).toContain(`on the kind network: ${world.registry}`);
      expect(
        reference.filter((l) => l.startsWith('hosts.toml on ') && l.includes(`http://${world.registry}:5000`)),
      ).toHaveLength(2);
      expect(reference.filter((l) => l === 'network kind')).toHaveLength(1);
    });

    it.each(POINTS.map((p) => [p.name, p] as const))(
      '%s',
      async (_name, point) => {
        // A fault an earlier point did not use would fire here.
        writeFileSync(path.join(world.state, 'faults.json'), '[]');
        await prepare(world, point.from);
        const t0 = Date.now();
        const stopped = await point.stop(world);
        const t1 = Date.now();
        const left = leftBehind(world);
        const resumed = await koala(world, ['up']);
        const t2 = Date.now();
        let diff: string;
        try {
          diff =
            resumed.code === 0
              ? difference(reference, endState(world))
              : `the next up exited ${resumed.code}:\n${resumed.stdout}${resumed.stderr}`;
        } catch (error) {
          diff = `reading the end state failed: ${String(error)}`;
        }
        outcomes.push({
          point: point.name,
          stopped: describeStop(stopped, point.step),
          left,
          resumed: `exit ${resumed.code}`,
          times: `${seconds(t1 - t0)} + ${seconds(t2 - t1)}`,
          converged: diff === '',
          detail: diff,
        });
        expect(stopped.code, `the stopped run: ${stopped.stdout}${stopped.stderr}`).toBe(point.code);
        expect(diff).toBe('');
      },
      900_000,
    );
  },
);
