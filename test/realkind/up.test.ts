/**
 * The real-kind tier: `koala up` with the real kind v0.33, which makes real nodes (systemd,
 * containerd, kubeadm, kube-proxy, the CNI) as privileged containers of the kind Docker daemon,
 * from the test node image built here. Pods run real containers, pull from koala's registry
 * through the hosts.toml koala writes, and a NetworkPolicy drops real packets.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { koala, startKoala } from '../support/cli.ts';
import { jsonDocument, upRunDocument } from '../support/json-documents.ts';
import {
  docker,
  down,
  kind,
  kubectl,
  leftovers,
  memUsedMiB,
  realWorld,
  skipReason,
  sleep,
  tryKubectl,
  type RealWorld,
} from './support.ts';

if (skipReason) console.warn(skipReason);

const figures: Record<string, number | string> = {};
afterAll(() => console.log(`real-kind figures: ${JSON.stringify(figures)}`));

const nodeContainers = (world: RealWorld): string[] =>
  docker('ps', '-a', '--filter', `label=io.x-k8s.kind.cluster=${world.name}`, '--format', '{{.Names}}')
    .split('\n')
    .filter(Boolean)
    .sort();

function readyNodes(world: RealWorld): string[] {
  return kubectl(world, [
    'get',
    'nodes',
    '-o',
    'jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}',
  ])
    .split(' ')
    .filter(Boolean)
    .sort();
}

function waitPods(world: RealWorld, namespace: string, selector: string, count: number): void {
  // The DaemonSets' pods may not exist yet when the nodes turn Ready.
  const deadline = Date.now() + 180_000;
  for (;;) {
    const names = kubectl(world, ['get', 'pods', '-n', namespace, '-l', selector, '-o', 'name'])
      .split('\n')
      .filter(Boolean);
    if (names.length >= count) break;
    if (Date.now() > deadline) throw new Error(`${selector}: ${names.length}/${count} pods`);
    execSleep(1000);
  }
  kubectl(world, ['wait', '-n', namespace, '--for=condition=Ready', 'pod', '-l', selector, '--timeout=180s']);
}

function execSleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

async function waitPhase(
  world: RealWorld,
  namespace: string,
  pod: string,
  phases: string[],
  timeoutMs = 180_000,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const phase = tryKubectl(world, ['get', 'pod', '-n', namespace, pod, '-o', 'jsonpath={.status.phase}']).out;
    if (phases.includes(phase)) return phase;
    if (Date.now() > deadline)
      throw new Error(
        `pod ${pod} is ${phase}, not ${phases.join('/')}:\n` +
          tryKubectl(world, ['describe', 'pod', '-n', namespace, pod]).out,
      );
    await sleep(1000);
  }
}

describe.skipIf(Boolean(skipReason))('koala up on real kind: 1 control plane, 2 workers', () => {
  let world: RealWorld;
  let image = '';
  let downDone = false;

  afterAll(async () => {
    if (world && !downDone) await down(world);
  });

  it('resumes after a Ctrl-C in the middle of kind create; nodes Ready, CoreDNS and the CNI running', async () => {
    world = await realWorld({ controlPlanes: 1, workers: 2 });
    figures.memBeforeMiB = memUsedMiB();
    const run = startKoala(world, ['up']);
    // Interrupt once kind has made the node containers and is booting them.
    const deadline = Date.now() + 180_000;
    while (nodeContainers(world).length < 3) {
      if (Date.now() > deadline) throw new Error(`no node containers after 180s:\n${run.output()}`);
      await sleep(500);
    }
    await sleep(5_000);
    run.child.kill('SIGINT');
    const interrupted = await run.done;
    expect(interrupted.code, interrupted.stdout + interrupted.stderr).toBe(130);
    expect(interrupted.stdout + interrupted.stderr).toMatch(/interrupted[\s\S]*koala up/i);

    const t0 = Date.now();
    const resumed = await koala(world, ['up']);
    figures.upAfterInterruptSeconds = Math.round((Date.now() - t0) / 1000);
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const out = resumed.stdout + resumed.stderr;
    expect(out).toMatch(
      new RegExp(
        `cluster "${world.name}" was left incomplete by an interrupted create; deleting it and creating it again`,
      ),
    );
    expect(out).not.toMatch(/exists; reusing it/);
    expect(out).toMatch(/not pinned by digest/);
    expect(out).toMatch(/3 nodes/);

    expect(readyNodes(world)).toEqual(
      [`${world.name}-control-plane=True`, `${world.name}-worker2=True`, `${world.name}-worker=True`].sort(),
    );
    expect(nodeContainers(world)).toEqual([
      `${world.name}-control-plane`,
      `${world.name}-worker`,
      `${world.name}-worker2`,
    ]);
    waitPods(world, 'kube-system', 'k8s-app=kube-dns', 2);
    waitPods(world, 'kube-system', 'app=kindnet', 3);
    waitPods(world, 'kube-system', 'k8s-app=kube-router', 3);
    waitPods(world, 'kube-system', 'k8s-app=kube-proxy', 3);
    figures.memAfterUpMiB = memUsedMiB();
    figures.clusterMemMiB = Number(figures.memAfterUpMiB) - Number(figures.memBeforeMiB);
    // The registry is wired as kind's recipe has it: on the kind network, hosts.toml on each node.
    expect(docker('inspect', '-f', '{{json .NetworkSettings.Networks}}', world.registry)).toContain('"kind"');
    for (const node of nodeContainers(world)) {
      expect(
        docker('exec', node, 'cat', `/etc/containerd/certs.d/localhost:${world.registryPort}/hosts.toml`),
      ).toContain(`http://${world.registry}:5000`);
    }
  });

  it('runs, on a worker, an image that koala build pushed to the local registry', async () => {
    expect((await koala(world, ['new', 'spark-app', 'hello'])).code).toBe(0);
    const build = await koala(world, ['build', 'hello', '--build-arg', 'SPARK_IMAGE=koala-test/base:1', '--json']);
    expect(build.code, build.stdout + build.stderr).toBe(0);
    image = jsonDocument('build', build.stdout).image;
    expect(image).toMatch(new RegExp(`^localhost:${world.registryPort}/koala/hello:[0-9a-f]+$`));
    kubectl(world, ['create', 'namespace', 'pull']);
    kubectl(
      world,
      ['apply', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'pulled', namespace: 'pull' },
        spec: {
          restartPolicy: 'Never',
          nodeSelector: { 'kubernetes.io/hostname': `${world.name}-worker2` },
          containers: [{ name: 'app', image, command: ['sh', '-c', 'ls /app && id -u && echo ran-from-the-registry'] }],
        },
      }),
    );
    expect(await waitPhase(world, 'pull', 'pulled', ['Succeeded', 'Failed'])).toBe('Succeeded');
    const logs = kubectl(world, ['logs', '-n', 'pull', 'pulled']);
    expect(logs).toMatch(/ran-from-the-registry/);
    expect(logs).toMatch(/^185$/m);
    // containerd on that worker pulled it from the registry (nothing was loaded with kind load).
    expect(docker('exec', `${world.name}-worker2`, 'crictl', 'images', '-o', 'json')).toContain(
      image.split(':').slice(0, 2).join(':'),
    );
  });

  it('a NetworkPolicy drops real packets that flow without it', async () => {
    const ns = 'np';
    kubectl(world, ['create', 'namespace', ns]);
    const pod = (name: string, node: string, labels: Record<string, string>, command: string[]) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels },
      spec: {
        nodeSelector: { 'kubernetes.io/hostname': `${world.name}-${node}` },
        containers: [{ name: 'c', image, command }],
      },
    });
    for (const p of [
      pod('server', 'worker', { app: 'server' }, [
        'sh',
        '-c',
        'mkdir -p /tmp/www && echo koala-np-ok > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www',
      ]),
      pod('client', 'worker2', { role: 'client' }, ['sleep', '3600']),
      pod('stranger', 'worker2', {}, ['sleep', '3600']),
    ])
      kubectl(world, ['apply', '-f', '-'], JSON.stringify(p));
    kubectl(world, ['wait', '-n', ns, '--for=condition=Ready', 'pod', '--all', '--timeout=180s']);
    const ip = kubectl(world, ['get', 'pod', '-n', ns, 'server', '-o', 'jsonpath={.status.podIP}']);
    const fetchFrom = (from: string) =>
      tryKubectl(world, ['exec', '-n', ns, from, '--', 'timeout', '2', 'wget', '-q', '-O-', `http://${ip}:8080/`]);

    // Across nodes, with no policy: both clients get the page.
    const open = fetchFrom('client');
    expect(open.ok, open.out).toBe(true);
    expect(open.out).toBe('koala-np-ok');
    expect(fetchFrom('stranger').ok).toBe(true);

    // Deny all ingress to the server: the same request is dropped.
    const deny = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'deny', namespace: ns },
      spec: { podSelector: { matchLabels: { app: 'server' } }, policyTypes: ['Ingress'] },
    };
    const t0 = Date.now();
    kubectl(world, ['apply', '-f', '-'], JSON.stringify(deny));
    while (fetchFrom('client').ok) {
      if (Date.now() - t0 > 30_000) throw new Error('the deny policy was not in force after 30s');
    }
    figures.policyInForceMs = Date.now() - t0;
    for (const from of ['client', 'client', 'stranger']) {
      const blocked = fetchFrom(from);
      expect(blocked.ok, `${from}: ${blocked.out}`).toBe(false);
    }
    figures.blockedRequestMs = fetchFrom('client').ms;

    // Allow the labelled client only: it gets through, the stranger stays blocked.
    const allow = {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-client', namespace: ns },
      spec: {
        podSelector: { matchLabels: { app: 'server' } },
        policyTypes: ['Ingress'],
        ingress: [
          { from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ port: 8080, protocol: 'TCP' }] },
        ],
      },
    };
    kubectl(world, ['apply', '-f', '-'], JSON.stringify(allow));
    const t1 = Date.now();
    while (!fetchFrom('client').ok) {
      if (Date.now() - t1 > 30_000) throw new Error('the allow policy was not in force after 30s');
    }
    expect(fetchFrom('stranger').ok).toBe(false);

    // Without policies, traffic flows again.
    kubectl(world, ['delete', 'networkpolicy', '-n', ns, '--all']);
    const t2 = Date.now();
    while (!fetchFrom('stranger').ok) {
      if (Date.now() - t2 > 30_000) throw new Error('traffic did not flow again 30s after the policies were deleted');
    }
  });

  it('a second up changes nothing, and status reports the cluster', async () => {
    const started = () =>
      docker('inspect', '-f', '{{.Name}} {{.State.StartedAt}}', ...nodeContainers(world), world.registry);
    const before = started();
    const t0 = Date.now();
    const again = await koala(world, ['up', '--json']);
    figures.secondUpSeconds = Math.round((Date.now() - t0) / 100) / 10;
    expect(again.code, again.stderr).toBe(0);
    const steps = upRunDocument(again.stdout).steps;
    expect(steps.filter((s) => s.status !== 'unchanged')).toEqual([]);
    expect(started()).toBe(before);

    const status = await koala(world, ['status', '--json']);
    expect(status.code, status.stdout + status.stderr).toBe(0);
    const s = jsonDocument('status', status.stdout);
    expect(s.nodes.map((n) => n.name).sort()).toEqual([
      `${world.name}-control-plane`,
      `${world.name}-worker`,
      `${world.name}-worker2`,
    ]);
    expect(s.nodes.every((n) => n.ready)).toBe(true);
  });

  it('down leaves no container, volume, network endpoint or kubeconfig entry behind', async () => {
    const result = await koala(world, ['down', '--yes']);
    downDone = true;
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(leftovers(world)).toEqual([]);
    expect(readFileSync(world.env.KUBECONFIG!, 'utf8')).not.toContain(`kind-${world.name}`);
    figures.memAfterDownMiB = memUsedMiB();
  });
});

describe.skipIf(Boolean(skipReason))("koala up on real kind: 3 control planes behind kind's load balancer", () => {
  it('counts and configures the 4 Kubernetes nodes, not the load balancer, talks to the API through it', async () => {
    const world = await realWorld({ controlPlanes: 3, workers: 1 });
    try {
      const t0 = Date.now();
      const up = await koala(world, ['up']);
      figures.haUpSeconds = Math.round((Date.now() - t0) / 1000);
      expect(up.code, up.stdout + up.stderr).toBe(0);
      expect(up.stdout).not.toMatch(/5 nodes/);
      expect(up.stdout).toMatch(/4 nodes/);
      const lb = `${world.name}-external-load-balancer`;
      // kind lists the load balancer with the nodes.
      const listed = kind(['get', 'nodes', '--name', world.name]);
      expect(listed).toContain(lb);
      expect(readyNodes(world)).toHaveLength(4);
      expect(readyNodes(world).every((n) => n.endsWith('=True'))).toBe(true);
      const hosts = `/etc/containerd/certs.d/localhost:${world.registryPort}/hosts.toml`;
      for (const node of listed.split('\n').filter((n) => n && n !== lb)) {
        expect(docker('exec', node, 'cat', hosts), node).toContain(`http://${world.registry}:5000`);
      }
      expect(docker('exec', lb, 'sh', '-c', `test -e '${hosts}' && echo present || echo absent`)).toBe('absent');
      // The kubeconfig's server is the load balancer's published port.
      const port = docker('port', lb).match(/:(\d+)\s*$/m)?.[1];
      expect(kubectl(world, ['config', 'view', '--minify', '-o', 'jsonpath={.clusters[0].cluster.server}'])).toContain(
        `:${port}`,
      );
      figures.haMemAfterUpMiB = memUsedMiB();

      const again = await koala(world, ['up', '--json']);
      expect(again.code, again.stderr).toBe(0);
      expect(upRunDocument(again.stdout).steps.every((s) => s.status === 'unchanged')).toBe(true);
    } finally {
      const result = await koala(world, ['down', '--yes']);
      expect(result.code, result.stdout + result.stderr).toBe(0);
    }
    expect(leftovers(world)).toEqual([]);
  });
});
