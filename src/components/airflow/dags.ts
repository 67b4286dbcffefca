import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { sha256 } from '../../charts/fetch.ts';
import type { KoalaConfig } from '../../config/schema.ts';
import type { Manifest } from '../../kube/client.ts';
import { KoalaError } from '../../util/errors.ts';

/**
 * DAGs come from the project's dags/ folder, with no git hosting and no token: koala packs the
 * folder into a ConfigMap (one JSON document: relative path → text), and a small sidecar in
 * each Airflow pod that parses or runs DAGs unpacks every new version into its own directory
 * and swaps a symlink, /opt/airflow/dags/current, which is Airflow's dags_folder. So a change is
 * atomic (Airflow never sees half a folder), subfolders work, and `koala dags sync` is one API
 * write - no image build, no helm upgrade, no pod restart. Mounting a ConfigMap directly as the
 * DAG folder does not work: its ..data symlinks make Airflow's walk fail with "recursive loop".
 */

export const DAGS_CONFIGMAP = 'airflow-dags';
export const DAGS_KEY = 'dags.json';
export const DAGS_ROOT = '/opt/airflow/dags';
export const DAGS_FOLDER = `${DAGS_ROOT}/current`;
export const DAGS_BUNDLE_MOUNT = '/opt/airflow/dags-bundle';

/** ConfigMaps hold at most 1 MiB; leave room for the JSON and the object itself. */
export const DAGS_LIMIT_BYTES = 900 * 1024;
const SKIP_DIRS = new Set(['__pycache__', '.git', '.venv', 'venv', 'node_modules', '.ipynb_checkpoints']);

export interface DagBundle {
  files: Record<string, string>;
  digest: string;
  bytes: number;
}

export function dagsDirectory(config: KoalaConfig): string {
  return path.resolve(config.projectDir, config.airflow.dagsDir);
}

/** Read the DAG folder: text files only, hidden files and caches left out. A missing folder is an empty bundle. */
export async function readDagBundle(dir: string): Promise<DagBundle> {
  const files: Record<string, string> = {};
  let exists: boolean;
  try {
    exists = (await stat(dir)).isDirectory();
  } catch {
    exists = false;
  }
  if (exists) {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    const paths = entries
      .filter((e) => e.isFile())
      .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
      .filter(
        (rel) =>
          !rel.split(path.sep).some((part) => part.startsWith('.') && part !== '.airflowignore') &&
          !rel.split(path.sep).some((part) => SKIP_DIRS.has(part)),
      )
      .filter((rel) => !rel.endsWith('.pyc'))
      .sort();
    for (const rel of paths) {
      const data = await readFile(path.join(dir, rel));
      if (data.includes(0)) {
        throw new KoalaError(`${path.join(dir, rel)} is a binary file; the DAG folder carries text files only`, {
          hint:
            'Keep data in the object store and code in dags/; ' +
            'or add the file to .airflowignore and move it elsewhere.',
        });
      }
      files[rel.split(path.sep).join('/')] = data.toString('utf8');
    }
  }
  const json = bundleJson(files);
  const bytes = Buffer.byteLength(json);
  if (bytes > DAGS_LIMIT_BYTES) {
    throw new KoalaError(
      `The DAG folder ${dir} holds ${Math.round(bytes / 1024)} KiB; ` +
        `a ConfigMap carries at most ${DAGS_LIMIT_BYTES / 1024} KiB`,
      {
        hint: 'Move large files (data, notebooks) out of dags/; the DAG folder is for DAG code.',
      },
    );
  }
  return { files, digest: sha256(json).slice(0, 16), bytes };
}

export function bundleJson(files: Record<string, string>): string {
  return JSON.stringify({ files });
}

export function dagsConfigMap(config: KoalaConfig, bundle: DagBundle): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: DAGS_CONFIGMAP,
      namespace: config.namespaces.airflow,
      labels: { 'app.kubernetes.io/part-of': 'koala', 'koala.dev/dags': 'bundle' },
      annotations: { 'koala.dev/dags-digest': bundle.digest, 'koala.dev/dags-source': config.airflow.dagsDir },
    },
    data: { [DAGS_KEY]: bundleJson(bundle.files) },
  };
}

/**
 * The sidecar: unpack each new bundle into .koala/<digest>, then swap the `current` symlink.
 * Paths are confined to the target directory. It runs in the Airflow image (Python is there).
 */
export const DAGS_SYNC_SCRIPT = `
import hashlib, json, os, shutil, sys, time
SRC = '${DAGS_BUNDLE_MOUNT}/${DAGS_KEY}'; ROOT = '${DAGS_ROOT}'; STORE = ROOT + '/.koala'; LINK = ROOT + '/current'
os.makedirs(STORE, exist_ok=True)
last = None
while True:
    try:
        raw = open(SRC, 'rb').read()
        digest = hashlib.sha256(raw).hexdigest()[:16]
        if digest != last:
            target = os.path.join(STORE, digest)
            if not os.path.isdir(target):
                tmp = target + '.tmp'
                shutil.rmtree(tmp, ignore_errors=True)
                os.makedirs(tmp)
                for rel, text in json.loads(raw)['files'].items():
                    dest = os.path.normpath(os.path.join(tmp, rel))
                    if not dest.startswith(tmp + os.sep):
                        continue
                    os.makedirs(os.path.dirname(dest), exist_ok=True)
                    with open(dest, 'w', encoding='utf-8') as f:
                        f.write(text)
                os.rename(tmp, target)
            if os.path.lexists(LINK + '.new'):
                os.remove(LINK + '.new')
            os.symlink(os.path.join('.koala', digest), LINK + '.new')
            os.replace(LINK + '.new', LINK)
            for old in os.listdir(STORE):
                if old != digest:
                    shutil.rmtree(os.path.join(STORE, old), ignore_errors=True)
            last = digest
            print('koala dags: now at', digest, flush=True)
    except FileNotFoundError:
        pass
    except Exception as error:
        print('koala dags: error:', error, file=sys.stderr, flush=True)
    time.sleep(5)
`.trim();
