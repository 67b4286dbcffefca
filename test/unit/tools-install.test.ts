import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installTools, resolveSource } from '../../src/tools/install.ts';
import { TOOL_PINS, type PinnedTool } from '../../src/tools/pins.ts';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const platform = 'linux-amd64' as const;

/** A mirror in koala's layout (<tool>/<version>/<platform>/<file>) serving small stand-ins. */
let root: string;
let server: http.Server;
let mirror: string;
const sums: Partial<Record<PinnedTool, string>> = {};
const bodies: Partial<Record<PinnedTool, Buffer>> = {};
let hangAfterHalf = false;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'koala-mirror-'));
  for (const tool of ['kind', 'kubectl'] as const) {
    const body = Buffer.from(`#!/bin/sh\necho ${tool} ${TOOL_PINS[tool].version}\n`.padEnd(70_000, '#'));
    const dir = path.join(root, tool, TOOL_PINS[tool].version, platform);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, TOOL_PINS[tool].file(platform)), body);
    bodies[tool] = body;
    sums[tool] = sha(body);
  }
  // helm's tarball: <platform>/helm inside, as get.helm.sh ships it (made with tar(1)).
  const work = path.join(root, 'work');
  await mkdir(path.join(work, platform), { recursive: true });
  bodies.helm = Buffer.from('#!/bin/sh\necho helm\n');
  await writeFile(path.join(work, platform, 'README.md'), 'readme\n');
  await writeFile(path.join(work, platform, 'helm'), bodies.helm);
  const helmDir = path.join(root, 'helm', TOOL_PINS.helm.version, platform);
  await mkdir(helmDir, { recursive: true });
  const tarball = path.join(helmDir, TOOL_PINS.helm.file(platform));
  execFileSync('tar', ['-czf', tarball, '-C', work, `${platform}/README.md`, `${platform}/helm`]);
  sums.helm = sha(await readFile(tarball));

  server = http.createServer((req, res) => {
    const file = path.join(root, decodeURIComponent(new URL(req.url!, 'http://x').pathname));
    if (!file.startsWith(root) || !existsSync(file)) return void res.writeHead(404).end();
    void readFile(file).then((body) => {
      res.writeHead(200, { 'content-length': body.length });
      if (hangAfterHalf) res.write(body.subarray(0, body.length / 2));
      else res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe('koala tools install', () => {
  it('fetches each tool from the mirror, verifies its sum and makes it executable', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'koala-bin-'));
    const progress: string[] = [];
    const installed = await installTools(['kind', 'helm', 'kubectl'], {
      mirror,
      sha256: sums,
      dir,
      platform,
      onProgress: (t) => progress.push(t),
    });
    expect(installed.map((i) => [i.tool, i.fetched])).toEqual([
      ['kind', true],
      ['helm', true],
      ['kubectl', true],
    ]);
    expect(await readFile(path.join(dir, 'kind'))).toEqual(bodies.kind);
    expect(await readFile(path.join(dir, 'helm'))).toEqual(bodies.helm);
    expect(execFileSync(path.join(dir, 'kubectl'), { encoding: 'utf8' })).toMatch(/^kubectl v/);
    expect(new Set(progress)).toEqual(new Set(['kind', 'helm', 'kubectl']));
    // Again: the stamped sums match, nothing is fetched.
    const again = await installTools(['kind', 'helm', 'kubectl'], { mirror, sha256: sums, dir, platform });
    expect(again.every((i) => !i.fetched)).toBe(true);
  });

  it('rejects a tampered file: names it, deletes it and installs nothing', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'koala-bin-'));
    const wrong = { ...sums, kind: '0'.repeat(64) };
    await expect(installTools(['kind'], { mirror, sha256: wrong, dir, platform })).rejects.toThrow(
      new RegExp(
        `^kind-linux-amd64 from ${mirror}/kind/v0\\.33\\.0/linux-amd64/kind-linux-amd64 ` +
          `has SHA-256 ${sums.kind}, expected 0{64}; the file was deleted$`,
      ),
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('leaves no half file when a download is interrupted', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'koala-bin-'));
    hangAfterHalf = true;
    const aborter = new AbortController();
    try {
      const pending = installTools(['kubectl'], {
        mirror,
        sha256: sums,
        dir,
        platform,
        signal: aborter.signal,
        onProgress: () => aborter.abort(new Error('Interrupted')),
      });
      await expect(pending).rejects.toThrow('Interrupted');
    } finally {
      hangAfterHalf = false;
    }
    expect(await readdir(dir)).toEqual([]);
  });

  it('pins a SHA-256 for every tool on every platform, kept in the source', () => {
    for (const tool of ['kind', 'helm', 'kubectl'] as const)
      for (const p of ['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64'] as const)
        expect(TOOL_PINS[tool].sha256[p], `${tool} ${p}`).toMatch(/^[0-9a-f]{64}$/);
  });

  it('uses the pinned sums for a mirror without sums of its own, and never installs an unverified pin', () => {
    expect(resolveSource('helm', { mirror }, platform)).toEqual({
      url: `${mirror}/helm/v4.3.0/linux-amd64/helm-v4.3.0-linux-amd64.tar.gz`,
      sha256: TOOL_PINS.helm.sha256[platform],
    });
    const pinned = TOOL_PINS.kubectl.sha256[platform];
    TOOL_PINS.kubectl.sha256[platform] = undefined; // a pin whose sum was not checked yet
    try {
      expect(() => resolveSource('kubectl', {}, platform)).toThrow(
        `kubectl v1.37.0 for linux-amd64 has no verified SHA-256 in koala's pins`,
      );
      expect(() => resolveSource('kubectl', { mirror }, platform)).toThrow(/has no verified SHA-256/);
    } finally {
      TOOL_PINS.kubectl.sha256[platform] = pinned;
    }
    expect(resolveSource('kind', { mirror, sha256: sums }, platform)).toEqual({
      url: `${mirror}/kind/v0.33.0/linux-amd64/kind-linux-amd64`,
      sha256: sums.kind,
    });
  });

  it('points at the official release URLs', () => {
    expect(TOOL_PINS.kind.officialUrl(platform)).toBe('https://kind.sigs.k8s.io/dl/v0.33.0/kind-linux-amd64');
    expect(TOOL_PINS.helm.officialUrl('darwin-arm64')).toBe('https://get.helm.sh/helm-v4.3.0-darwin-arm64.tar.gz');
    expect(TOOL_PINS.kubectl.officialUrl('linux-arm64')).toBe(
      'https://dl.k8s.io/release/v1.37.0/bin/linux/arm64/kubectl',
    );
  });
});
