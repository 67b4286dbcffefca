/**
 * A machine without kind, helm and kubectl: `koala up --yes` fetches the pinned three from the
 * tools mirror in koala.yaml, checks each against its SHA-256, and goes on with them. PATH holds
 * every command of this machine but those three; the mirror serves the tools this test bed uses
 * (the kind stand-in, the test bed's helm 4, the kubectl stand-in) under the official file names,
 * with sums the test computes, as a mirror of a team's own builds would (tools.sha256).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { koala, makeWorld, type World } from '../support/cli.ts';
import { REPO, testbed } from '../support/testbed.ts';

const name = `tm${randomBytes(2).toString('hex')}`;
const PLATFORM = 'linux-amd64';
let world: World;
let server: http.Server;
let env: NodeJS.ProcessEnv;

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A shell script that runs `target`: the stand-ins find their helpers beside themselves. */
function wrapper(file: string, target: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `#!/bin/sh\nexec ${target} "$@"\n`);
  chmodSync(file, 0o755);
}

/** Every command on this machine's PATH but kind, helm and kubectl. */
function pathWithoutTools(dir: string): string {
  mkdirSync(dir);
  const seen = new Set(['kind', 'helm', 'kubectl']);
  for (const d of [path.dirname(process.execPath), ...(process.env.PATH ?? '').split(path.delimiter)]) {
    if (!d || !existsSync(d)) continue;
    for (const entry of readdirSync(d)) {
      if (seen.has(entry)) continue;
      seen.add(entry);
      symlinkSync(path.join(d, entry), path.join(dir, entry));
    }
  }
  return dir;
}

beforeAll(async () => {
  world = makeWorld();
  const mirror = path.join(world.dir, 'mirror');
  const kindFile = path.join(mirror, 'kind', 'v0.33.0', PLATFORM, `kind-${PLATFORM}`);
  wrapper(kindFile, path.join(REPO, 'test/fakes/bin/kind'));
  const kubectlFile = path.join(mirror, 'kubectl', 'v1.37.0', PLATFORM, 'kubectl');
  wrapper(kubectlFile, path.join(REPO, 'test/fakes/bin/kubectl'));
  const helmDir = path.join(world.dir, 'helm-release');
  wrapper(path.join(helmDir, PLATFORM, 'helm'), path.join(testbed().binDir, 'helm4'));
  const helmFile = path.join(mirror, 'helm', 'v4.3.0', PLATFORM, `helm-v4.3.0-${PLATFORM}.tar.gz`);
  mkdirSync(path.dirname(helmFile), { recursive: true });
  execFileSync('tar', ['-czf', helmFile, '-C', helmDir, PLATFORM]);

  server = http.createServer((req, res) => {
    const file = path.join(mirror, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(mirror) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  world.writeConfig(
    [
      `cluster: { name: ${name}, controlPlanes: 1, workers: 1 }`,
      'registry: { enabled: false }',
      'ports: { airflow: 0, objectStore: 0, objectStoreConsole: 0, gateway: 0 }',
      'components:',
      '  spark-operator: { enabled: false }',
      '  object-store: { enabled: false }',
      '  airflow: { enabled: false }',
      'tools:',
      `  mirror: ${url}`,
      '  sha256:',
      `    kind: ${sha256(kindFile)}`,
      `    helm: ${sha256(helmFile)}`,
      `    kubectl: ${sha256(kubectlFile)}`,
    ].join('\n'),
  );
  env = {
    PATH: pathWithoutTools(path.join(world.dir, 'path')),
    KOALA_IGNORE_CHECKS: 'inotify',
    // No override: koala looks for each tool in its cache, then on PATH.
    KOALA_KIND: '',
    KOALA_HELM: '',
    KOALA_KUBECTL: '',
    // The kind stand-in's own control plane needs a kubectl; koala does not read this.
    KUBECTL: '/usr/bin/kubectl',
  };
});

afterAll(async () => {
  if (env) await koala(world, ['down', '--yes'], { env });
  server?.close();
});

describe('koala up on a machine without kind, helm and kubectl', () => {
  it('without --yes and no terminal, preflight names the command that fetches each (nothing changed)', async () => {
    const refused = await koala(world, ['up'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('fix: Run `koala tools install kind`');
    expect(refused.stderr).toContain('fix: Run `koala tools install helm`');
    expect(refused.stderr).toContain('fix: Run `koala tools install kubectl`');
    expect(world.calls().filter((c) => c.tool === 'kind')).toEqual([]);
  });

  it('with --yes fetches the pinned three from the mirror, checks their sums, and goes on with them', async () => {
    const up = await koala(world, ['up', '--yes'], { env });
    expect(up.code, up.stderr + up.stdout).toBe(0);
    const bin = path.join(world.env.KOALA_CACHE_DIR!, 'bin');
    expect(up.stdout + up.stderr).toContain(
      `Fetching kind v0.33.0 (missing), helm v4.3.0 (missing), kubectl v1.37.0 (missing) into ${bin}`,
    );
    for (const tool of ['kind', 'helm', 'kubectl']) expect(existsSync(path.join(bin, tool)), tool).toBe(true);
    expect(up.stdout).toMatch(/cluster\s+done/);
    // The cluster was made by the fetched kind.
    expect(world.calls().some((c) => c.tool === 'kind' && c.argv.slice(0, 2).join(' ') === 'create cluster')).toBe(
      true,
    );
    const again = await koala(world, ['up', '--yes'], { env });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout + again.stderr).not.toContain('Fetching');
  });
});
