import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { KubeTarget } from '../kube/client.ts';
import { KoalaError } from '../util/errors.ts';
import { runTool, toolPath, type ToolCall } from './exec.ts';
import { atLeast, formatVersion, parseVersion, type SemVer } from './version.ts';

/**
 * helm, through its CLI. Helm 3 and Helm 4 differ in flags (--atomic became
 * --rollback-on-failure, --wait took a strategy), so koala detects which one it has and builds
 * the arguments for it. Values always travel in a 0600 file, never in --set: helm's arguments
 * are visible to every user of the machine in `ps`.
 */

/** The Airflow chart 1.22 needs Helm 3.19; nothing koala installs needs less. */
export const MIN_HELM_VERSION = '3.19.0';

export interface HelmInfo {
  version: SemVer;
  major: 3 | 4;
}

export async function helmVersion(signal?: AbortSignal): Promise<SemVer | undefined> {
  const { stdout } = await runTool({
    tool: 'helm',
    args: ['version', '--template', '{{.Version}}'],
    timeoutMs: 15_000,
    ...(signal ? { signal } : {}),
  });
  return parseVersion(stdout);
}

// Keyed by the binary, so KOALA_HELM can point at another helm within one process (the tests do).
const detected = new Map<string, Promise<HelmInfo>>();

/** Which helm this is, checked once per binary; fails with a hint when it is too old or unknown. */
export function detectHelm(signal?: AbortSignal): Promise<HelmInfo> {
  const binary = toolPath('helm');
  let info = detected.get(binary);
  if (!info) {
    info = (async (): Promise<HelmInfo> => {
      const version = await helmVersion(signal);
      return helmInfo(version, binary);
    })();
    info.catch(() => detected.delete(binary));
    detected.set(binary, info);
  }
  return info;
}

export function helmInfo(version: SemVer | undefined, binary = 'helm'): HelmInfo {
  if (!version)
    throw new KoalaError(`Could not read the version of ${binary}`, {
      hint: 'Check that `helm version` works; set KOALA_HELM to the helm binary to use.',
    });
  if (version.major !== 3 && version.major !== 4) {
    throw new KoalaError(`Helm ${formatVersion(version)} is not supported (koala knows Helm 3 and 4)`, {
      hint: 'Install Helm 4 (or Helm 3.19+) and run the command again.',
    });
  }
  if (!atLeast(version, MIN_HELM_VERSION)) {
    throw new KoalaError(`Helm ${formatVersion(version)} is too old; koala needs ${MIN_HELM_VERSION} or later`, {
      hint: 'Upgrade Helm (https://helm.sh/docs/intro/install/) and run the command again.',
    });
  }
  return { version, major: version.major };
}

/** Every helm call names the cluster explicitly: the kubeconfig and context of the platform, nothing implicit. */
export function kubeArgs(target: KubeTarget): string[] {
  return [...(target.kubeconfig ? ['--kubeconfig', target.kubeconfig] : []), '--kube-context', target.context];
}

export interface InstallOptions {
  release: string;
  namespace: string;
  /** A chart directory or .tgz on disk: koala fetches and verifies charts itself. */
  chart: string;
  valuesFile: string;
  timeoutSeconds: number;
  createNamespace?: boolean;
}

/**
 * `helm upgrade --install` that waits for the release to be ready and undoes itself when it is
 * not: Helm 3 spells that `--wait --atomic`; Helm 4 deprecates --atomic for
 * --rollback-on-failure and wants a wait strategy (watcher = kstatus, Helm 4's default).
 */
export function upgradeArgs(helm: HelmInfo, o: InstallOptions): string[] {
  const safety = helm.major === 4 ? ['--wait=watcher', '--rollback-on-failure'] : ['--wait', '--atomic'];
  return [
    'upgrade',
    '--install',
    o.release,
    o.chart,
    '--namespace',
    o.namespace,
    ...(o.createNamespace ? ['--create-namespace'] : []),
    '--values',
    o.valuesFile,
    ...safety,
    '--timeout',
    `${o.timeoutSeconds}s`,
    // Each revision keeps a copy of the release in a Secret; a handful is enough to roll back.
    '--history-max',
    '5',
  ];
}

export interface ReleaseState {
  name: string;
  namespace: string;
  revision: number;
  /** deployed, failed, pending-install, pending-upgrade, pending-rollback, uninstalling, superseded… */
  status: string;
  /** "<chart name>-<chart version>", as helm lists it. */
  chart: string;
  appVersion: string;
}

/** Helm 3 lists only deployed and failed releases unless told --all; Helm 4 lists every status and has no --all. */
export function listArgs(helm: HelmInfo, release: string, namespace: string): string[] {
  return [
    'list',
    '--namespace',
    namespace,
    '--filter',
    `^${escapeRegex(release)}$`,
    ...(helm.major === 3 ? ['--all'] : []),
    '--output',
    'json',
  ];
}

function call(target: KubeTarget, args: string[], extra: Partial<ToolCall> = {}): ToolCall {
  return { tool: 'helm', args: [...args, ...kubeArgs(target)], timeoutMs: 60_000, ...extra };
}

/** The release as `helm list` sees it (any status), or undefined when there is none. */
export async function releaseState(
  target: KubeTarget,
  release: string,
  namespace: string,
  signal?: AbortSignal,
): Promise<ReleaseState | undefined> {
  const helm = await detectHelm(signal);
  const { stdout } = await runTool(call(target, listArgs(helm, release, namespace), signal ? { signal } : {}));
  const rows = parseJson(stdout, 'helm list') as Array<Record<string, unknown>> | null;
  const row = (rows ?? []).find((r) => r.name === release);
  if (!row) return undefined;
  return {
    name: String(row.name),
    namespace: String(row.namespace ?? namespace),
    revision: Number(row.revision ?? 0),
    status: String(row.status ?? ''),
    chart: String(row.chart ?? ''),
    appVersion: String(row.app_version ?? ''),
  };
}

/** The values the release was installed with (what koala passed, not the chart's defaults). */
export async function releaseValues(
  target: KubeTarget,
  release: string,
  namespace: string,
  signal?: AbortSignal,
): Promise<Record<string, unknown>> {
  const { stdout } = await runTool(
    call(target, ['get', 'values', release, '--namespace', namespace, '--output', 'json'], signal ? { signal } : {}),
  );
  return (parseJson(stdout, 'helm get values') as Record<string, unknown> | null) ?? {};
}

/**
 * Install or upgrade a release with the given values. The values go through a 0600 file in a
 * 0700 directory that is removed afterwards, whatever happens.
 */
export async function upgradeInstall(
  target: KubeTarget,
  options: Omit<InstallOptions, 'valuesFile'> & { values: Record<string, unknown> },
  run: { signal?: AbortSignal; onLine?: (line: string) => void } = {},
): Promise<void> {
  const helm = await detectHelm(run.signal);
  await withValuesFile(options.values, async (valuesFile) => {
    await runTool(
      call(target, upgradeArgs(helm, { ...options, valuesFile }), {
        // Helm's own --timeout bounds the wait; this one only catches a helm that hangs after it.
        timeoutMs: (options.timeoutSeconds + 120) * 1000,
        ...(run.signal ? { signal: run.signal } : {}),
        ...(run.onLine ? { onLine: run.onLine } : {}),
      }),
    );
  });
}

/**
 * The objects a chart on disk renders to with these values (`helm template`: no cluster, no
 * release), as one multi-document YAML string. Values travel in a 0600 file, as for installs.
 */
export async function templateChart(
  options: { release: string; namespace: string; chart: string; values: Record<string, unknown> },
  signal?: AbortSignal,
): Promise<string> {
  return withValuesFile(options.values, async (valuesFile) => {
    const args = ['template', options.release, options.chart, '--namespace', options.namespace, '--values', valuesFile];
    const { stdout } = await runTool({ tool: 'helm', args, timeoutMs: 60_000, ...(signal ? { signal } : {}) });
    return stdout;
  });
}

export async function withValuesFile<T>(
  values: Record<string, unknown>,
  use: (file: string) => Promise<T>,
): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'koala-values-'));
  try {
    const file = path.join(dir, 'values.json');
    // JSON is YAML, and needs no YAML library here.
    await writeFile(file, `${JSON.stringify(values, null, 2)}\n`, { mode: 0o600 });
    return await use(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `helm uninstall|rollback <release> --wait`: both wait for the release's objects, up to the timeout. */
async function waitedReleaseAction(
  verb: 'uninstall' | 'rollback',
  target: KubeTarget,
  release: string,
  namespace: string,
  options: { signal?: AbortSignal; timeoutSeconds?: number },
): Promise<void> {
  const timeoutSeconds = options.timeoutSeconds ?? 300;
  const args = [verb, release, '--namespace', namespace, '--wait', '--timeout', `${timeoutSeconds}s`];
  await runTool(
    call(target, args, {
      timeoutMs: (timeoutSeconds + 60) * 1000,
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  );
}

export async function uninstall(
  target: KubeTarget,
  release: string,
  namespace: string,
  options: { signal?: AbortSignal; timeoutSeconds?: number } = {},
): Promise<void> {
  await waitedReleaseAction('uninstall', target, release, namespace, options);
}

export async function rollback(
  target: KubeTarget,
  release: string,
  namespace: string,
  options: { signal?: AbortSignal; timeoutSeconds?: number } = {},
): Promise<void> {
  await waitedReleaseAction('rollback', target, release, namespace, options);
}

/**
 * A release left "pending-*" by an interrupted helm (Ctrl-C, a killed process) blocks every
 * later upgrade with "another operation is in progress". Put it back to a state helm can act on:
 * a first install that never finished is removed; an upgrade or rollback is rolled back.
 */
export async function recoverStuckRelease(
  target: KubeTarget,
  state: ReleaseState,
  options: { signal?: AbortSignal; report?: (line: string) => void } = {},
): Promise<boolean> {
  if (!state.status.startsWith('pending-')) return false;
  if (state.status === 'pending-install' || state.revision <= 1) {
    options.report?.(
      `release ${state.name} was left ${state.status} by an interrupted run; removing it to install again`,
    );
    await uninstall(target, state.name, state.namespace, options);
  } else {
    options.report?.(`release ${state.name} was left ${state.status} by an interrupted run; rolling it back first`);
    await rollback(target, state.name, state.namespace, options);
  }
  return true;
}

/** helm's exit when it is killed half way: a status koala can repair by itself. */
export function isStuckStatus(status: string): boolean {
  return status.startsWith('pending-');
}

export function helmBinaryLabel(): string {
  return toolPath('helm');
}

function parseJson(text: string, what: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return null;
  try {
    return JSON.parse(trimmed);
  } catch {
    throw new KoalaError(`${what} printed something that is not JSON: ${trimmed.slice(0, 200)}`, {
      hint: 'Check the helm binary (`helm version`); set KOALA_HELM to the one to use.',
    });
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
