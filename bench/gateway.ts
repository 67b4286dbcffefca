/**
 * The gateway's cost per request: the real Caddy (scripts/testbed/build-platform-images.sh
 * --caddy-bin) with koala's config, in front of an HTTP server on this machine, against asking
 * that server directly, in the same run. Three routes: a public one, one that asks for an
 * access group's credentials (koala's config: Caddy caches a checked password), and the same
 * without that cache (every request pays a bcrypt check), to show what the cache is worth.
 *
 *   node bench/gateway.ts      (BENCH_REQUESTS=300 per route by default)
 */
import bcrypt from 'bcryptjs';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { caddyConfig } from '../src/components/gateway/caddy.ts';
import { ingressFor, routesOf, type PublishedSettings } from '../src/components/gateway/routes.ts';
import { median, percentile } from './lib/testbed.ts';

const requests = Number(process.env.BENCH_REQUESTS ?? 300);
const repo = path.resolve(import.meta.dirname, '..');
const bin = execFileSync('bash', [path.join(repo, 'scripts/testbed/build-platform-images.sh'), '--caddy-bin'], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
}).trim();

const upstream = http.createServer((_req, res) => res.end('ok'));
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const upstreamPort = (upstream.address() as AddressInfo).port;

const published = (prefix: string, patch: Partial<PublishedSettings>): PublishedSettings => ({
  prefix,
  timeoutMs: 6000,
  stickySessions: false,
  bypassAuth: false,
  displayedName: prefix,
  icon: 'import_contacts',
  visible: true,
  ...patch,
});
const ingresses = [
  ingressFor({
    ingressClass: 'koala',
    name: 'open',
    namespace: 'b',
    labels: {},
    service: 'open',
    port: 80,
    published: published('/open/', { bypassAuth: true }),
  }),
  ingressFor({
    ingressClass: 'koala',
    name: 'signed',
    namespace: 'b',
    labels: {},
    service: 'signed',
    port: 80,
    published: published('/signed/', { access: 'dev' }),
  }),
  ingressFor({
    ingressClass: 'koala',
    name: 'uncached',
    namespace: 'b',
    labels: {},
    service: 'uncached',
    port: 80,
    published: published('/uncached/', { access: 'dev' }),
  }),
];
const routes = routesOf(ingresses as never, 'koala').routes.map((r) => ({
  ...r,
  upstream: { host: '127.0.0.1', port: upstreamPort },
}));
const password = randomBytes(18).toString('base64url');
const config = caddyConfig(routes, { dev: await bcrypt.hash(password, 10) });
type Route = { match?: Array<{ path: string[] }>; handle: Array<{ routes?: Array<{ handle: unknown[] }> }> };
const server = (config as { apps: { http: { servers: { gateway: { listen: string[]; routes: Route[] } } } } }).apps.http
  .servers.gateway;
// The uncached route: the same authentication without Caddy's cache of checked passwords.
const uncachedAuth = server.routes.find((r) => r.match?.[0]?.path[0] === '/uncached')!.handle[0]!.routes![0]!
  .handle[0] as { providers: { http_basic: { hash_cache?: unknown } } };
delete uncachedAuth.providers.http_basic.hash_cache;
const port = 30_000 + (process.pid % 20_000);
server.listen = [`127.0.0.1:${port}`];
const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-bench-caddy-'));
writeFileSync(path.join(dir, 'caddy.json'), JSON.stringify(config));
const caddy = spawn(bin, ['run', '--config', path.join(dir, 'caddy.json')], {
  stdio: 'ignore',
  env: { ...process.env, XDG_CONFIG_HOME: dir, XDG_DATA_HOME: dir },
});
try {
  for (let i = 0; i < 100; i++) {
    if (
      (await fetch(`http://127.0.0.1:${port}/.koala/healthz`).then(
        (r) => r.status,
        () => 0,
      )) === 200
    )
      break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const auth = { authorization: `Basic ${Buffer.from(`dev:${password}`).toString('base64')}` };
  const measure = async (url: string, headers: Record<string, string> = {}): Promise<number[]> => {
    const ms: number[] = [];
    for (let i = 0; i < requests + 10; i++) {
      const t0 = performance.now();
      const r = await fetch(url, { headers });
      await r.text();
      if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
      if (i >= 10) ms.push(performance.now() - t0); // the first ten warm the connections
    }
    return ms;
  };
  const direct = await measure(`http://127.0.0.1:${upstreamPort}/`);
  const open = await measure(`http://127.0.0.1:${port}/open/`);
  const signed = await measure(`http://127.0.0.1:${port}/signed/`, auth);
  const uncached = await measure(`http://127.0.0.1:${port}/uncached/`, auth);
  const line = (name: string, ms: number[]) =>
    `${name.padEnd(34)} median ${median(ms).toFixed(2)} ms, p95 ${percentile(ms, 95).toFixed(2)} ms`;
  console.log(line('direct to the service (baseline)', direct));
  console.log(line('through the gateway, public', open));
  console.log(line('through the gateway, signed in', signed));
  console.log(line('signed in, no password cache', uncached));
  console.log(
    `ratios (median): public/direct ${(median(open) / median(direct)).toFixed(2)}x, ` +
      `signed/public ${(median(signed) / median(open)).toFixed(2)}x, ` +
      `uncached/signed ${(median(uncached) / median(signed)).toFixed(2)}x`,
  );
} finally {
  caddy.kill();
  upstream.close();
}
