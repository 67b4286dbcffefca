import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chartSource, fetchChart } from '../../../src/charts/fetch.ts';

const tgz = Buffer.from('not really a chart, but bytes with a digest');
const digest = createHash('sha256').update(tgz).digest('hex');
let server: http.Server;
let base = '';
const hits: string[] = [];
let index = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/repo/index.yaml') res.end(index);
    else if (req.url === '/repo/charts/demo-1.2.3.tgz') res.end(tgz);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const pin = { repository: 'https://charts.example.invalid', name: 'demo', version: '1.2.3' };
const indexWith = (d: string) =>
  [
    'apiVersion: v1',
    'entries:',
    '  demo:',
    '    - version: 1.2.3',
    `      digest: ${d}`,
    '      urls: [charts/demo-1.2.3.tgz]',
    '    - version: 1.0.0',
    '      urls: [charts/demo-1.0.0.tgz]',
    '',
  ].join('\n');

describe('chart fetching', () => {
  it('a mirror replaces the upstream repository', () => {
    expect(chartSource(pin, undefined)).toBe('https://charts.example.invalid');
    expect(chartSource(pin, 'http://mirror.local/helm/')).toBe('http://mirror.local/helm');
  });

  it('fetches through the index (relative URLs), checks the digest, caches, and then needs no network', async () => {
    index = indexWith(digest);
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'koala-charts-'));
    const first = await fetchChart(pin, { mirror: base, cacheDir });
    expect(first).toMatchObject({ fromCache: false, source: base });
    expect(existsSync(first.file)).toBe(true);
    hits.length = 0;
    const second = await fetchChart(pin, { mirror: base, cacheDir });
    expect(second.fromCache).toBe(true);
    expect(hits).toEqual([]);
    // Offline and pointed elsewhere: the cached copy is used, and said so.
    const notes: string[] = [];
    const offline = await fetchChart(pin, {
      mirror: 'http://127.0.0.1:9/nowhere',
      cacheDir,
      report: (l) => notes.push(l),
    });
    expect(offline.fromCache).toBe(true);
    expect(notes.join('\n')).toMatch(/not reachable; using demo-1.2.3 cached/);
  });

  it('refuses a chart whose digest does not match the index', async () => {
    index = indexWith('f'.repeat(64));
    await expect(
      fetchChart(pin, { mirror: base, cacheDir: mkdtempSync(path.join(os.tmpdir(), 'koala-charts-')) }),
    ).rejects.toThrow(/does not match the digest/);
  });

  it('says which versions exist when the pinned one does not, and how to fix an unreachable repository', async () => {
    index = indexWith(digest);
    await expect(
      fetchChart(
        { ...pin, version: '9.9.9' },
        { mirror: base, cacheDir: mkdtempSync(path.join(os.tmpdir(), 'koala-charts-')) },
      ),
    ).rejects.toThrow(/has no demo 9.9.9 \(it has 1.2.3, 1.0.0\)/);
    await expect(
      fetchChart(pin, { cacheDir: mkdtempSync(path.join(os.tmpdir(), 'koala-charts-')) }),
    ).rejects.toMatchObject({ hint: expect.stringContaining('charts.mirror') });
  });
});
