/**
 * Published services on the real platform (called from platform.test.ts, on its cluster): two
 * tasks in namespace `tasks`, each a busybox httpd in real pods that answers with its pod's name.
 * `koala tasks deploy` publishes them through the gateway - Caddy built here, in the cluster,
 * behind kind's port mapping - and the test asks the host's 127.0.0.1:<ports.gateway> for them:
 * without credentials the group's service is refused, with the group's from `koala credentials`
 * it answers; the bypass_auth one answers anyone; sticky sessions keep a client on one of two
 * pods. The gateway's NetworkPolicy lets it reach the tasks namespace only because koala labels it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { koala } from '../support/cli.ts';
import { jsonDocument } from '../support/json-documents.ts';
import { waitFor, type PlatformWorld } from './platform-world.ts';
import { kubectl, tryKubectl } from './support.ts';

const NS = 'tasks';

function service(name: string, image: string, published: Record<string, unknown>, replicas = 1) {
  return {
    labels: `app:${name}`,
    type: 'service',
    published,
    name,
    'image-source': image,
    'image-destination': '',
    'image-pull-policy': 'IfNotPresent',
    env: [],
    cmd: ['/bin/sh', '-ec', 'mkdir -p /tmp/www && hostname > /tmp/www/index.html && exec httpd -f -p 5000 -h /tmp/www'],
    replicas,
    'name-port': 'http',
    'container-port': 5000,
  };
}

export async function publishedServicesOnThePlatform(world: PlatformWorld, figures: Record<string, number | string>) {
  const image = world.images.mc!;
  const root = path.join(world.project, 'services');
  const tasks = {
    hello: service('hello', image, { access: 'dev', prefix: '/hello/', rewrite: '/', sticky_sessions: true }, 2),
    open: service('open', image, { prefix: '/open/', rewrite: '/', bypass_auth: true, displayed_name: 'Open' }),
  };
  for (const [dir, manifest] of Object.entries(tasks)) {
    mkdirSync(path.join(root, dir), { recursive: true });
    writeFileSync(path.join(root, dir, 'manifest.json'), JSON.stringify(manifest, null, 2));
  }
  const t0 = Date.now();
  const deployed = await koala(world, ['tasks', 'deploy', root, '--json']);
  expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
  const doc = jsonDocument('tasks deploy', deployed.stdout);
  expect(doc.gateway?.served).toBe(true);
  figures.gatewayDeploySeconds = Math.round((Date.now() - t0) / 1000);
  const base = doc.gateway!.base;
  expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  kubectl(world, ['rollout', 'status', '-n', NS, 'deployment/hello', 'deployment/open', '--timeout=180s']);

  const credentials = jsonDocument('credentials', (await koala(world, ['credentials', '--json'])).stdout);
  const dev = credentials.gateway.find((g) => g.group === 'dev')!;
  expect(dev.username).toBe('dev');
  const basic = `Basic ${Buffer.from(`dev:${dev.password}`).toString('base64')}`;
  const ask = (p: string, headers: Record<string, string> = {}) =>
    fetch(`${base}${p}`, { headers }).then(
      async (r) => ({ status: r.status, body: (await r.text()).trim(), cookie: r.headers.get('set-cookie') ?? '' }),
      (error: unknown) => ({ status: 0, body: String(error), cookie: '' }),
    );

  // The pods may need a moment behind the Service; the public one answers anyone once they do.
  let last = { status: 0, body: '' };
  const open = await waitFor(
    'the open service through the gateway',
    async () => {
      last = await ask('/open/');
      return last.status === 200 ? last : undefined;
    },
    120_000,
  ).catch((error: unknown) => {
    // What the gateway said, and what it and the service's pods were doing.
    const state = [
      `last answer: ${last.status} ${last.body.slice(0, 300)}`,
      tryKubectl(world, ['get', 'pods,svc,endpoints,ingress', '-n', NS, '-o', 'wide']).out,
      tryKubectl(world, ['get', 'pods,svc', '-n', 'gateway', '-o', 'wide']).out,
      tryKubectl(world, ['logs', '-n', 'gateway', 'deployment/gateway', '--tail=40']).out,
    ];
    throw new Error(`${String(error)}\n${state.join('\n')}`);
  });
  expect(open.body).toMatch(/^open-/);
  figures.gatewayFirstAnswerSeconds = Math.round((Date.now() - t0) / 1000);

  // The group's service: refused without credentials or with wrong ones, served with the group's.
  expect((await ask('/hello/')).status).toBe(401);
  expect((await ask('/hello/', { authorization: `Basic ${Buffer.from('dev:wrong').toString('base64')}` })).status).toBe(
    401,
  );
  const first = await waitFor(
    'the hello service with credentials',
    async () => {
      const r = await ask('/hello/', { authorization: basic });
      return r.status === 200 ? r : undefined;
    },
    60_000,
  );
  expect(first.body).toMatch(/^hello-/);
  // Sticky sessions: with its cookie a client stays on one pod; new clients are spread over both.
  const cookie = first.cookie.split(';')[0]!;
  expect(cookie).toMatch(/^koala_sticky=/);
  const again = await Promise.all(
    Array.from({ length: 8 }, () => ask('/hello/', { authorization: basic, cookie }).then((r) => r.body)),
  );
  expect(new Set(again)).toEqual(new Set([first.body]));
  const fresh = new Set<string>();
  for (let i = 0; i < 30 && fresh.size < 2; i++) fresh.add((await ask('/hello/', { authorization: basic })).body);
  expect(fresh.size).toBe(2);

  // The listing names both, and an unknown path is the gateway's 404.
  const listing = await ask('/.koala/services.json');
  expect((JSON.parse(listing.body) as Array<{ path: string }>).map((s) => s.path).sort()).toEqual([
    '/hello/',
    '/open/',
  ]);
  expect((await ask('/elsewhere/')).status).toBe(404);

  // Unpublishing one: the gateway stops serving it.
  const removed = await koala(world, ['tasks', 'delete', 'open']);
  expect(removed.code, removed.stderr).toBe(0);
  const gone = await waitFor(
    'the gateway to drop /open/',
    async () => {
      const r = await ask('/open/');
      return r.status === 404 ? r : undefined;
    },
    60_000,
  );
  expect(gone.body).toContain('the list is at /');
}
