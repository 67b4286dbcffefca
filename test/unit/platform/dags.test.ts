import { spawn } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  bundleJson,
  DAGS_BUNDLE_MOUNT,
  DAGS_KEY,
  DAGS_ROOT,
  DAGS_SYNC_SCRIPT,
  dagsConfigMap,
  readDagBundle,
} from '../../../src/components/airflow/dags.ts';
import { defaultConfig } from '../../../src/config/schema.ts';

function tree(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-dags-'));
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

describe('the DAG bundle', () => {
  it('carries the text files of dags/, subfolders included, without caches and hidden files', async () => {
    const dir = tree({
      'etl.py': 'from airflow import DAG\n',
      'jobs/pi.yaml': 'kind: SparkApplication\n',
      '__pycache__/etl.cpython-312.pyc': 'x',
      '.secret': 'no',
      '.airflowignore': 'tmp/\n',
      'lib/helpers.py': '# helpers\n',
    });
    const bundle = await readDagBundle(dir);
    expect(Object.keys(bundle.files)).toEqual(['.airflowignore', 'etl.py', 'jobs/pi.yaml', 'lib/helpers.py']);
    expect(bundle.digest).toMatch(/^[0-9a-f]{16}$/);
    expect((await readDagBundle(dir)).digest).toBe(bundle.digest);
    const cm = dagsConfigMap(defaultConfig(dir), bundle);
    expect(cm.metadata).toMatchObject({
      name: 'airflow-dags',
      namespace: 'airflow',
      annotations: { 'koala.dev/dags-digest': bundle.digest },
    });
  });

  it('a missing folder is an empty bundle; a binary file or an oversized folder is refused with a hint', async () => {
    expect((await readDagBundle('/nonexistent/dags')).files).toEqual({});
    await expect(readDagBundle(tree({ 'data.bin': Buffer.from([1, 0, 2]) }))).rejects.toMatchObject({
      message: expect.stringContaining('binary'),
      hint: expect.any(String),
    });
    await expect(readDagBundle(tree({ 'big.py': 'x'.repeat(1024 * 1024) }))).rejects.toThrow(/at most/);
  });
});

/** The sidecar, for real: python3 runs the script against temp directories. */
describe('the DAG sidecar script', () => {
  it('unpacks each bundle into its own directory and swaps the `current` symlink, confining paths', async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'koala-sidecar-'));
    const bundleDir = path.join(work, 'bundle');
    const root = path.join(work, 'dags');
    mkdirSync(bundleDir);
    const script = DAGS_SYNC_SCRIPT.replaceAll(DAGS_BUNDLE_MOUNT, bundleDir)
      .replaceAll(`'${DAGS_ROOT}'`, `'${root}'`)
      .replace('time.sleep(5)', 'time.sleep(0.1)');
    writeFileSync(
      path.join(bundleDir, DAGS_KEY),
      bundleJson({ 'a.py': 'A = 1\n', 'sub/b.py': 'B = 2\n', '../escape.py': 'nope' }),
    );
    const child = spawn('python3', ['-c', script], { stdio: 'ignore' });
    const until = async (check: () => boolean): Promise<void> => {
      for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(check()).toBe(true);
    };
    try {
      const current = path.join(root, 'current');
      await until(() => existsSync(path.join(current, 'sub/b.py')));
      expect(lstatSync(current).isSymbolicLink()).toBe(true);
      expect(readFileSync(path.join(current, 'a.py'), 'utf8')).toBe('A = 1\n');
      expect(existsSync(path.join(work, 'escape.py'))).toBe(false);
      const first = readlinkSync(current);
      writeFileSync(path.join(bundleDir, DAGS_KEY), bundleJson({ 'a.py': 'A = 2\n' }));
      await until(() => readlinkSync(current) !== first);
      expect(readFileSync(path.join(current, 'a.py'), 'utf8')).toBe('A = 2\n');
      expect(existsSync(path.join(current, 'sub/b.py'))).toBe(false);
      await until(() => !existsSync(path.join(root, first)));
    } finally {
      child.kill();
    }
  });
});
