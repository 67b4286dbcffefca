/**
 * The gateway's config in the real Caddy (built from its Go module at the pinned release by
 * scripts/testbed/build-platform-images.sh --caddy-bin), on this machine: routes rendered from
 * published tasks' Ingresses exactly as the cluster's are, with the upstreams pointed at HTTP
 * servers this test runs. Prefix, rewrite, timeout, access groups, bypass_auth, the listing and
 * the longest-prefix rule are answered by Caddy itself. On real kind, test/realkind runs the same
 * config in the cluster, behind kind's port mapping.
 */
import bcrypt from 'bcryptjs';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caddyConfig } from '../../src/components/gateway/caddy.ts';
import { ingressFor, routesOf, type PublishedSettings } from '../../src/components/gateway/routes.ts';

const REPO = path.resolve(import.meta.dirname, '../..');
let caddy: ChildProcess | undefined;
let upstream: http.Server;
let base = '';
const password = randomBytes(18).toString('base64url');

const published = (patch: Partial<PublishedSettings>): PublishedSettings => ({
  prefix: '/app/',
  timeoutMs: 6000,
  stickySessions: false,
  bypassAuth: false,
  displayedName: 'x',
  icon: 'import_contacts',
  visible: true,
  ...patch,
});

/** Ask the gateway; with `auth` as user:password. */
async function ask(p: string, auth?: string) {
  const started = Date.now();
  const res = await fetch(`${base}${p}`, {
    headers: auth ? { authorization: `Basic ${Buffer.from(auth).toString('base64')}` } : {},
  });
  const body = await res.text();
  return { status: res.status, body, headers: res.headers, ms: Date.now() - started };
}

beforeAll(async () => {
  // Built on first use; in CI a failure here fails the file (nothing is skipped).
  const bin = execFileSync('bash', [path.join(REPO, 'scripts/testbed/build-platform-images.sh'), '--caddy-bin'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 10 * 60_000,
  }).trim();
  // One upstream for every service: it answers with the name it was asked as, the path and the prefix.
  upstream = http.createServer((req, res) => {
    if (req.url?.includes('slow')) return void setTimeout(() => res.end('late'), 3_000);
    res.setHeader('content-type', 'application/json');
    const { host, authorization } = req.headers;
    res.end(JSON.stringify({ host, url: req.url, prefix: req.headers['x-forwarded-prefix'], authorization }));
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  const ingresses = [
    { name: 'flask', p: published({ access: 'dev', rewrite: '/' }) },
    { name: 'flask-api', p: published({ access: 'dev', prefix: '/app/api/' }) },
    { name: 'docs', p: published({ prefix: '/docs', bypassAuth: true, rewrite: '/v1/', displayedName: 'Docs' }) },
    { name: 'raw', p: published({ prefix: '/raw/', bypassAuth: true, timeoutMs: 500 }) },
    { name: 'ops', p: published({ prefix: '/ops/', access: 'ops', visible: false }) },
  ].map(({ name, p }) =>
    ingressFor({ ingressClass: 'koala', name, namespace: 'tasks', labels: {}, service: name, port: 80, published: p }),
  );
  // The cluster's DNS names become this machine's server; the Host header still says which.
  const routes = routesOf(ingresses as never, 'koala').routes.map((r) => ({
    ...r,
    upstream: { host: '127.0.0.1', port: upstreamPort },
  }));
  const config = caddyConfig(routes, { dev: await bcrypt.hash(password, 10) }) as {
    apps: { http: { servers: { gateway: { listen: string[] } } } };
  };
  const port = 20_000 + (process.pid % 20_000);
  config.apps.http.servers.gateway.listen = [`127.0.0.1:${port}`];
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-caddy-'));
  writeFileSync(path.join(dir, 'caddy.json'), JSON.stringify(config));
  caddy = spawn(bin, ['run', '--config', path.join(dir, 'caddy.json')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir },
  });
  let log = '';
  caddy.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (caddy.exitCode !== null) throw new Error(`caddy exited ${caddy.exitCode}:\n${log}`);
    if (
      (await fetch(`${base}/.koala/healthz`).then(
        (r) => r.status,
        () => 0,
      )) === 200
    )
      break;
    if (Date.now() > deadline) throw new Error(`caddy did not answer in 20 s:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}, 11 * 60_000);

afterAll(() => {
  caddy?.kill();
  upstream?.close();
});

describe('the gateway config in the real Caddy', () => {
  it('asks for the access group: no credentials or wrong ones are refused, the group is let in', async () => {
    const none = await ask('/app/page');
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toBe('Basic realm="koala (dev)"');
    expect((await ask('/app/page', 'dev:wrong')).status).toBe(401);
    expect((await ask('/app/page', `ops:${password}`)).status).toBe(401);
    const ok = await ask('/app/page?q=1', `dev:${password}`);
    expect(ok.status).toBe(200);
    // rewrite "/": the service sees its own paths, and the prefix it is published under.
    // The group's password stays at the gateway.
    expect(JSON.parse(ok.body)).toEqual({ host: expect.any(String), url: '/page?q=1', prefix: '/app' });
    expect(JSON.parse((await ask('/app', `dev:${password}`)).body)).toMatchObject({ url: '/' });
  });

  it('serves the longest prefix first: /app/api is its own service, passed on unrewritten', async () => {
    const r = await ask('/app/api/items', `dev:${password}`);
    // Not rewritten, so no X-Forwarded-Prefix: the app sees the whole path already.
    expect(JSON.parse(r.body)).toEqual({ host: expect.any(String), url: '/app/api/items' });
  });

  it('bypass_auth is public; a rewrite replaces the prefix; no rewrite passes the path as it is', async () => {
    expect(JSON.parse((await ask('/docs/guide/intro')).body)).toMatchObject({ url: '/v1/guide/intro' });
    expect(JSON.parse((await ask('/raw/k')).body)).toEqual({ host: expect.any(String), url: '/raw/k' });
  });

  it('a service slower than timeout_ms is answered 504 at the timeout', async () => {
    const r = await ask('/raw/slow');
    expect(r.status).toBe(504);
    expect(r.ms).toBeGreaterThanOrEqual(450);
    expect(r.ms).toBeLessThan(2_500);
  });

  it('a group without credentials is closed; an unknown path is 404 and points to the list', async () => {
    expect((await ask('/ops/', `ops:${password}`)).status).toBe(403);
    const unknown = await ask('/nowhere');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toContain('the list is at /');
  });

  it('lists the visible services at / and as JSON', async () => {
    const page = await ask('/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.body).toContain('<a href="/docs/">Docs</a>');
    expect(page.body).not.toContain('/ops/');
    const json = JSON.parse((await ask('/.koala/services.json')).body) as Array<{ path: string; public: boolean }>;
    expect(json.map((s) => `${s.path}${s.public ? ' public' : ''}`).sort()).toEqual([
      '/app/',
      '/app/api/',
      '/docs/ public',
      '/raw/ public',
    ]);
  });
});
