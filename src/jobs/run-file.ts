import type { Manifest } from '../kube/client.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import type { ManifestSource } from './manifest-file.ts';
import { sparkPlatform } from './spark-platform.ts';
import { ignoredFields, operatorFeatures, type Reference } from './references.ts';
import { LABEL_APP, LABEL_MANAGED_BY, renderFromManifest, type SparkApplication } from './render.ts';
import type { RunRequest } from './run.ts';
import { loadManifestFile } from './manifest-file.ts';

/** `koala run -f`: a manifest file made into one run, before and without the cluster. */

export interface PreparedFile {
  source: ManifestSource;
  appName: string;
  namespace: string;
  /** The file's ConfigMaps and Secrets, in the run's namespace. */
  companions: Manifest[];
  overrides: { file: string; image?: string; serviceAccount?: string; imageMirror?: string };
  /** The run as it will be created, under a placeholder number. */
  probe: SparkApplication;
}

/** The run's name and namespace, its companions moved there, notices for what koala changes or ignores. */
export function prepareFile(source: ManifestSource, request: RunRequest, defaultNamespace: string): PreparedFile {
  const notice = (line: string): void => request.onNotice?.(line);
  source.notices.forEach(notice);
  const appName = source.app.metadata.name;
  const namespace = request.namespace ?? source.app.metadata.namespace ?? defaultNamespace;
  const mirror = request.ctx.config.images.mirror;
  const overrides = {
    file: source.file,
    ...(mirror ? { imageMirror: mirror } : {}),
    ...(request.image ? { image: request.image } : {}),
    ...(request.serviceAccount ? { serviceAccount: request.serviceAccount } : {}),
  };
  const probe = renderFromManifest(source.app, { app: appName, number: 0, namespace }, overrides);
  ignoredFields(probe.spec, operatorFeatures(request.ctx.config)).forEach(notice);
  if (mirror && !request.image && probe.spec.image !== source.app.spec.image)
    notice(`image ${source.app.spec.image} runs as ${probe.spec.image}`);
  const companions = source.companions.map((c): Manifest => {
    const from = c.metadata.namespace;
    if (from && from !== namespace) {
      const why = "pods read only their own namespace's";
      notice(`${c.kind} ${c.metadata.name}: applied in ${namespace} with the run, not in ${from} (${why})`);
    }
    const labels = { ...(c.metadata.labels ?? {}), [LABEL_MANAGED_BY]: 'koala', [LABEL_APP]: appName };
    return { ...c, metadata: { ...c.metadata, namespace, labels } };
  });
  return { source, appName, namespace, companions, overrides, probe };
}

export interface DryRun {
  /** What would be applied and created, in order; the run number is chosen at submit. */
  manifests: Manifest[];
}

/** `koala run -f --dry-run`: the checks that need no cluster, and what would be submitted. */
export async function dryRunFile(request: RunRequest & { file: string }): Promise<DryRun> {
  const platform = sparkPlatform(request.ctx.config);
  const prepared = prepareFile(await loadManifestFile(request.file), request, platform.jobNamespaces[0]!);
  const app = prepared.probe;
  app.metadata = { ...app.metadata, name: `${prepared.appName}-<n>` };
  // A Secret's values are shown as their keys only: dry-run output ends up in logs.
  const shown = prepared.companions.map((c) => (c.kind === 'Secret' ? redactSecret(c) : c));
  return { manifests: [...shown, app] };
}

function redactSecret(secret: Manifest): Manifest {
  const out: Manifest = { ...secret };
  for (const field of ['data', 'stringData']) {
    const values = secret[field];
    if (!values || typeof values !== 'object') continue;
    out[field] = Object.fromEntries(Object.keys(values).map((k) => [k, '(redacted)']));
  }
  return out;
}

/** Runs of one name from another file: histories are kept apart; names on the command line are shared. */
export function sharedNotice(app: string, namespace: string, other: string, field: string): string {
  return (
    `runs named ${app}-<n> in ${namespace} also come from ${other}: each file prunes only its own runs, but ` +
    `\`koala logs ${app}\` and \`koala apps status ${app}\` show the newest of either ` +
    `(give one file another ${field})`
  );
}

export function missingError(file: string, namespace: string, missing: Reference[]): KoalaError {
  const lines = missing.map((r) => `  ${r.kind} ${r.name} (${r.field})`).join('\n');
  const head = `${file} uses objects that are not in namespace "${namespace}"; its pods would wait for them forever`;
  return new KoalaError(`${head}:\n${lines}`, {
    exitCode: EXIT.usage,
    hint:
      `Create them in ${namespace} (e.g. \`kubectl -n ${namespace} create configmap <name> --from-file=…\`), ` +
      `or add them to ${file}: koala applies the ConfigMaps and Secrets in the file with the run. ` +
      'Nothing was submitted.',
  });
}
