import type { UpStepId } from '../../orchestration/up-order.ts';
import type { V1Namespace, V1Secret } from '@kubernetes/client-node';
import type { Step } from '../../engine/step.ts';
import type { PlatformContext } from '../../orchestration/context.ts';
import {
  credentialsFile,
  readCredentialsFile,
  resolveCredentials,
  storeCredentials,
  type Credentials,
  type Resolution,
} from '../../orchestration/credentials.ts';
import { ToolError } from '../../tools/exec.ts';
import { releaseValues } from '../../tools/helm.ts';
import { REDACTED } from '../../tools/redact.ts';
import { errorMessage, isAbortError, KoalaError } from '../../util/errors.ts';
import type { Component } from '../component.ts';
import { FOUNDATION } from './declaration.ts';
import { platformChart, releaseStep, type ReleaseDef } from '../release.ts';
import { allNamespaces, anyDataComponent, namespaceRoles, RELEASES } from '../names.ts';
import { credentialsFromSecrets, platformSecrets, type SecretSpec } from './secrets.ts';

/**
 * The platform's foundation, one release of koala's chart: the namespaces (job namespaces
 * first of all, which the Spark operator needs to exist) and the credentials, as Secrets where
 * each consumer needs them and in a 0600 file under the cluster's state directory.
 */

const resolutions = new WeakMap<PlatformContext, Promise<Resolution>>();

/** The cluster's credentials, resolved once per command: .env.private, the local file, the cluster, or new. */
export function platformCredentials(ctx: PlatformContext): Promise<Resolution> {
  let resolution = resolutions.get(ctx);
  if (!resolution) {
    resolution = (async () =>
      resolveCredentials(
        ctx.env,
        await readCredentialsFile(credentialsFile(ctx)),
        () => credentialsFromCluster(ctx),
        ctx.config,
      ))();
    resolution.catch(() => resolutions.delete(ctx));
    resolutions.set(ctx, resolution);
  }
  return resolution;
}

/**
 * What the platform release already holds (a lost state directory is not lost credentials), or
 * undefined when helm says the release does not exist. Any other failure (the API server not
 * answering, a timeout, RBAC) stops: new credentials for a platform that has some would lock
 * every component out of its own data.
 */
async function credentialsFromCluster(ctx: PlatformContext): Promise<ReturnType<typeof credentialsFromSecrets>> {
  const namespace = ctx.config.namespaces.system;
  try {
    const values = await releaseValues(ctx.kubeTarget, RELEASES.platform, namespace);
    return credentialsFromSecrets(values.secrets as SecretSpec[] | undefined);
  } catch (error) {
    if (isAbortError(error)) throw error;
    // Helm 3 and 4 both say "Error: release: not found" for a release that does not exist.
    if (error instanceof ToolError && /\brelease: not found\b/.test(error.result.stderr)) return undefined;
    throw new KoalaError(
      `Could not read the credentials the cluster already holds (helm release ${namespace}/${RELEASES.platform}), ` +
        `and ${credentialsFile(ctx)} does not hold them:\n  ${errorMessage(error)}`,
      {
        hint:
          `Nothing was changed. Check that cluster "${ctx.spec.name}" answers (\`koala status\`), ` +
          'then run the command again; koala makes new credentials only for a platform that has none.',
        cause: error,
      },
    );
  }
}

/**
 * The credential Secrets the release holds that the cluster no longer has (someone deleted one):
 * helm recreates a missing object on upgrade, so the platform step is not done while one is gone.
 */
async function missingSecrets(ctx: PlatformContext, credentials: Credentials): Promise<string[]> {
  const kube = await ctx.kube();
  const wanted = platformSecrets(ctx.config, credentials);
  const live = await Promise.all(
    wanted.map(({ name, namespace }) =>
      kube.get<V1Secret>({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace } }),
    ),
  );
  return wanted.filter((_, i) => !live[i]).map(({ name, namespace }) => `${namespace}/${name}`);
}

const NAMESPACE_ROLES = (ctx: PlatformContext): Array<{ name: string; labels: Record<string, string> }> =>
  namespaceRoles(ctx.config).map(({ name, role }) => ({ name, labels: { 'koala.dev/role': role } }));

export function platformValues(
  ctx: PlatformContext,
  credentials: Credentials,
  digest: string,
): Record<string, unknown> {
  return {
    chartDigest: digest,
    sections: { namespaces: true, credentials: true },
    namespaces: { list: NAMESPACE_ROLES(ctx) },
    secrets: platformSecrets(ctx.config, credentials),
  };
}

/** Every credential as the redaction marker: for plans (--dry-run), which may not resolve the real ones. */
export function maskedCredentials(): Credentials {
  const m = REDACTED;
  return {
    objectStore: { accessKey: m, secretKey: m },
    airflow: { username: m, password: m, fernetKey: m, apiSecretKey: m, jwtSecret: m },
    postgres: { password: m },
  };
}

export function platformRelease(ctx: PlatformContext): ReleaseDef {
  return {
    release: RELEASES.platform,
    namespace: ctx.config.namespaces.system,
    createNamespace: true,
    chart: platformChart,
    values: async () =>
      platformValues(ctx, (await platformCredentials(ctx)).credentials, (await platformChart()).digest),
    planValues: async () => platformValues(ctx, maskedCredentials(), (await platformChart()).digest),
    timeoutSeconds: 120,
  };
}

function platformSteps(ctx: PlatformContext): Step[] {
  // Ready while every credential Secret exists: one deleted by hand makes the step apply the
  // release again, and helm recreates the missing object.
  const secretsPresent = async (): Promise<{ ready: boolean; detail: string }> => {
    const gone = await missingSecrets(ctx, (await platformCredentials(ctx)).credentials);
    return gone.length
      ? { ready: false, detail: `Secret ${gone.join(', ')} missing` }
      : { ready: true, detail: 'credentials in Secrets' };
  };
  const inner = releaseStep(ctx, {
    id: 'platform' satisfies UpStepId,
    title: `Create the platform namespaces and credentials (${allNamespaces(ctx.config).join(', ')})`,
    def: platformRelease(ctx),
    readiness: {
      check: secretsPresent,
      async wait() {
        const present = await secretsPresent();
        if (!present.ready) throw new Error(`helm applied ${RELEASES.platform}, yet ${present.detail}`);
        return present.detail;
      },
    },
  });
  const file = credentialsFile(ctx);
  return [
    {
      ...inner,
      plan: async () => [...(await inner.plan()), { kind: 'file', path: file, mode: 0o600 }],
      async check(stepCtx) {
        const result = await inner.check(stepCtx);
        if (!result.done) return result;
        const stored = await readCredentialsFile(file);
        const { credentials } = await platformCredentials(ctx);
        if (JSON.stringify(stored) !== JSON.stringify(credentials))
          return { done: false, reason: `${file} is missing or out of date` };
        return result;
      },
      async run(stepCtx) {
        const detail = await inner.run(stepCtx);
        const { credentials, sources } = await platformCredentials(ctx);
        const wrote = await storeCredentials(file, credentials);
        const generated = Object.values(sources).filter((s) => s === 'generated').length;
        const where = wrote ? `; credentials in ${file}` : '';
        return `${detail ?? ''}${where}${generated ? ` (${generated} generated)` : ''}`;
      },
    },
  ];
}

export const foundation: Component = {
  ...FOUNDATION,
  title: 'Namespaces and credentials',
  // Nothing to hold when no data component is on (the cluster-only `koala up` of the tests).
  enabled: anyDataComponent,
  steps: platformSteps,
  async health(ctx) {
    const kube = await ctx.kube();
    const names = allNamespaces(ctx.config);
    const namespaces = await Promise.all(
      names.map((name) => kube.get<V1Namespace>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
    );
    const missing = names.filter((_, i) => namespaces[i]?.status?.phase !== 'Active');
    if (missing.length === names.length) return { ok: false, missing: true, detail: 'not installed' };
    if (missing.length) return { ok: false, detail: `namespaces not active: ${missing.join(', ')}` };
    // Only the names matter here: the masked credentials give the same Secrets.
    const gone = await missingSecrets(ctx, maskedCredentials());
    if (gone.length) return { ok: false, detail: `Secret ${gone.join(', ')} missing: run \`koala up\`` };
    return {
      ok: true,
      detail: `${names.length} namespaces active, credentials in Secrets and ${credentialsFile(ctx)}`,
    };
  },
};

export interface StoredCredentials {
  file: string;
  /** "file": the local 0600 file; "cluster": read back from the platform release (the file is gone). */
  source: 'file' | 'cluster';
  credentials: Credentials;
}

/** For `koala credentials`: the local file, or what the cluster holds when the file is gone. Never generates. */
export async function storedCredentials(ctx: PlatformContext): Promise<StoredCredentials | undefined> {
  const file = credentialsFile(ctx);
  const fromFile = await readCredentialsFile(file);
  const complete = (c: ReturnType<typeof credentialsFromSecrets> | undefined): c is Credentials =>
    Boolean(
      c?.objectStore?.accessKey &&
      c.objectStore.secretKey &&
      c.airflow?.username &&
      c.airflow.password &&
      c.postgres?.password,
    );
  if (complete(fromFile)) return { file, source: 'file', credentials: fromFile };
  const fromCluster = await credentialsFromCluster(ctx);
  if (complete(fromCluster)) return { file, source: 'cluster', credentials: fromCluster };
  return undefined;
}
