import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sparkBuildArgs } from '../charts/images.ts';
import { loadPins } from '../charts/pins.ts';
import type { PlatformContext } from '../orchestration/context.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import { assetPath } from '../util/paths.ts';
import { APP_FILE, APPS_DIR, loadApp } from './app-file.ts';
import { buildAppImage } from './image.ts';
import { ANNOTATION_SOURCE, renderSparkApplication } from './render.ts';
import { deliveryFor } from './run.ts';
import { sparkPlatform } from './spark-platform.ts';

/**
 * The Airflow DAG beside each Spark app. `koala new spark-app <name>` writes dags/<name>.py,
 * which submits dags/<name>.sparkapplication.yaml through the cncf.kubernetes provider;
 * `koala dags sync` writes that YAML as `koala run <name>` would render the run (the image at
 * its current content tag, built and pushed first when the app changed), so what Airflow runs
 * and what `koala run` runs are the same SparkApplication. A DAG is tied to its app by naming
 * the YAML; deleting that line (or the DAG) unties them.
 */

/** Airflow DAG ids are Python-ish names; app names may hold "-". */
export function dagId(app: string): string {
  return app.replaceAll('-', '_');
}

export function renderedAppFile(app: string): string {
  return `${app}.sparkapplication.yaml`;
}

/** dags/<app>.py for a new app; an existing file is left alone. Returns the path when written. */
export async function writeAppDag(dagsDir: string, app: string, namespace: string): Promise<string | undefined> {
  const file = path.join(dagsDir, `${app}.py`);
  if (existsSync(file)) return undefined;
  const values: Record<string, string> = { name: app, dagId: dagId(app), namespace, yamlFile: renderedAppFile(app) };
  const template = await readFile(assetPath('templates', 'dag', 'spark-app.py'), 'utf8');
  await mkdir(dagsDir, { recursive: true });
  await writeFile(
    file,
    template.replaceAll(/\{\{(\w+)\}\}/g, (whole, key: string) => values[key] ?? whole),
  );
  return file;
}

/** True when a DAG's text submits this file: `application_file="<file>"`, in either quotes. */
function submitsFile(dag: string, file: string): boolean {
  const quoted = file.replaceAll('.', '\\.');
  return new RegExp(`application_file\\s*=\\s*(["'])${quoted}\\1`).test(dag);
}

/** The apps whose DAG (dags/<app>.py) submits the rendered YAML of that app. */
export async function appsWithDags(projectDir: string, dagsDir: string): Promise<string[]> {
  const appsDir = path.join(projectDir, APPS_DIR);
  if (!existsSync(appsDir)) return [];
  const apps: string[] = [];
  for (const entry of await readdir(appsDir, { withFileTypes: true })) {
    if (!entry.isDirectory() || !existsSync(path.join(appsDir, entry.name, APP_FILE))) continue;
    const dag = path.join(dagsDir, `${entry.name}.py`);
    if (existsSync(dag) && submitsFile(await readFile(dag, 'utf8'), renderedAppFile(entry.name))) apps.push(entry.name);
  }
  return apps.sort();
}

export interface RenderedAppDag {
  app: string;
  file: string;
  image: string;
  /** False when the file already held this rendering. */
  changed: boolean;
  built: boolean;
}

/** Build (when needed) and render the SparkApplication of every app with a DAG into dags/. */
export async function renderAppDags(
  ctx: PlatformContext,
  dagsDir: string,
  options: { signal: AbortSignal; onBuildLine?(line: string): void },
): Promise<RenderedAppDag[]> {
  const platform = sparkPlatform(ctx.config);
  const pins = await loadPins();
  const { dump } = await import('js-yaml');
  const out: RenderedAppDag[] = [];
  for (const name of await appsWithDags(ctx.config.projectDir, dagsDir)) {
    const app = await loadApp(path.join(ctx.config.projectDir, APPS_DIR, name));
    const build = await buildAppImage({
      app: app.name,
      dir: app.dir,
      dockerfile: app.build.dockerfile,
      buildArgs: { ...sparkBuildArgs(ctx.config, pins, app.sparkVersion), ...app.build.args },
      delivery: deliveryFor(ctx, false),
      signal: options.signal,
      ...(options.onBuildLine ? { onLine: options.onBuildLine } : {}),
    });
    const namespace = app.namespace ?? platform.jobNamespaces[0]!;
    // The provider submits into the DAG's namespace, whatever the YAML says: they must agree.
    const dagFile = path.join(dagsDir, `${name}.py`);
    const dagNamespace = /\bnamespace\s*=\s*["']([^"']*)["']/.exec(await readFile(dagFile, 'utf8'))?.[1];
    if (dagNamespace !== undefined && dagNamespace !== namespace) {
      throw new KoalaError(
        `${dagFile} submits into namespace "${dagNamespace}", but \`koala run ${name}\` runs in "${namespace}"`,
        {
          exitCode: EXIT.usage,
          hint: `Set namespace="${namespace}" in ${dagFile}, or the app's namespace in its ${APP_FILE}.`,
        },
      );
    }
    const manifest = renderSparkApplication(
      app,
      { app: app.name, number: 0, namespace },
      { image: build.image, contextDigest: build.context.digest, platform },
    );
    // Runs Airflow starts are told apart from `koala run`'s (which prunes only its own), and the
    // file names its source relative to the project, the same on every machine.
    manifest.metadata.labels = { ...manifest.metadata.labels, 'koala.dev/launched-by': 'airflow' };
    manifest.metadata.annotations = {
      ...manifest.metadata.annotations,
      [ANNOTATION_SOURCE]: path.relative(ctx.config.projectDir, app.file),
    };
    const text =
      `# Written by \`koala dags sync\` from ${APPS_DIR}/${name}/${APP_FILE}: the run \`koala run ${name}\`\n` +
      `# submits, for dags/${name}.py. Edit the app, not this file; the next sync writes it again.\n` +
      dump(manifest, { lineWidth: 120, noRefs: true });
    const file = path.join(dagsDir, renderedAppFile(name));
    const before = existsSync(file) ? await readFile(file, 'utf8') : undefined;
    if (before !== text) await writeFile(file, text);
    out.push({ app: name, file, image: build.image, changed: before !== text, built: build.built });
  }
  return out;
}
