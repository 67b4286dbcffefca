import type { V1DaemonSet, V1Namespace, V1Secret, V1StorageClass } from '@kubernetes/client-node';
import { allNamespaces, RELEASES } from '../components/names.ts';
import type { Step } from '../engine/step.ts';
import type { Kube } from '../kube/client.ts';
import type { PlatformContext } from '../orchestration/context.ts';
import type { UpStepId } from '../orchestration/up-order.ts';
import { parseVersion, atLeast } from '../tools/version.ts';
import { errorMessage, KoalaError } from '../util/errors.ts';
import { readConsent } from '../orchestration/state.ts';
import { guard, helmCheck, type CheckOutcome } from './preflight.ts';

/**
 * A cluster koala did not create (cluster.context): what `up` checks before it installs there,
 * and the step that stands where kind's create stands on koala's own cluster.
 */

/** The oldest Kubernetes the platform's charts install on (the Spark operator and Airflow charts ask 1.29+). */
export const MIN_KUBERNETES = '1.29.0';

/** What `koala up` creates, as SelfSubjectAccessReviews ask it: the charts' cluster objects and namespaced ones. */
export const INSTALL_RIGHTS: ReadonlyArray<{ verb: string; group: string; resource: string }> = [
  { verb: 'create', group: '', resource: 'namespaces' },
  { verb: 'create', group: '', resource: 'secrets' },
  { verb: 'create', group: '', resource: 'serviceaccounts' },
  { verb: 'create', group: 'apps', resource: 'deployments' },
  { verb: 'create', group: 'apps', resource: 'statefulsets' },
  { verb: 'create', group: 'batch', resource: 'jobs' },
  { verb: 'create', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' },
  { verb: 'create', group: 'admissionregistration.k8s.io', resource: 'mutatingwebhookconfigurations' },
  { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' },
  { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
  { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'roles' },
  { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'rolebindings' },
  { verb: 'create', group: 'networking.k8s.io', resource: 'networkpolicies' },
];

/**
 * DaemonSets of network plugins, by name: whether each enforces NetworkPolicies. A plugin that
 * is not listed is reported as unknown, never as enforcing.
 */
export const NETWORK_PLUGINS: ReadonlyArray<{ pattern: RegExp; plugin: string; enforces: boolean }> = [
  { pattern: /^calico-node$/, plugin: 'Calico', enforces: true },
  { pattern: /^canal$/, plugin: 'Canal (Calico policy)', enforces: true },
  { pattern: /^cilium$/, plugin: 'Cilium', enforces: true },
  { pattern: /^anetd$/, plugin: 'GKE Dataplane V2 (Cilium)', enforces: true },
  { pattern: /^antrea-agent$/, plugin: 'Antrea', enforces: true },
  { pattern: /^kube-router$/, plugin: 'kube-router', enforces: true },
  { pattern: /^weave-net$/, plugin: 'Weave Net', enforces: true },
  { pattern: /^kindnet$/, plugin: "kind's kindnetd (policies since kind 0.24)", enforces: true },
  { pattern: /^kube-ovn-cni$/, plugin: 'Kube-OVN', enforces: true },
  { pattern: /^ovnkube-node$/, plugin: 'OVN-Kubernetes', enforces: true },
  { pattern: /^azure-npm$/, plugin: 'Azure Network Policy Manager', enforces: true },
  { pattern: /^(kube-)?flannel(-ds)?$/, plugin: 'Flannel', enforces: false },
];

/** What the cluster's DaemonSets say about NetworkPolicy enforcement. */
export function networkPolicyEnforcement(daemonSets: readonly string[]): {
  enforcing: string[];
  notEnforcing: string[];
} {
  const found = (enforces: boolean): string[] =>
    NETWORK_PLUGINS.filter((p) => p.enforces === enforces && daemonSets.some((name) => p.pattern.test(name))).map(
      (p) => p.plugin,
    );
  return { enforcing: found(true), notEnforcing: found(false) };
}

/** Where `kind create cluster` stands on koala's own cluster: reach the API server of the context. */
export function reachClusterStep(ctx: PlatformContext): Step {
  const { context } = ctx.kubeTarget;
  return {
    id: 'cluster' satisfies UpStepId,
    title: `Reach the cluster of context "${context}" (koala did not create it, and leaves it in place)`,
    plan: () => [{ kind: 'wait', what: `the API server of context ${context}`, timeoutMs: 30_000 }],
    async check() {
      try {
        const kube = await ctx.kube();
        return { done: true, detail: `Kubernetes ${(await kube.version(10_000)).gitVersion} at ${serverOf(kube)}` };
      } catch (error) {
        return { done: false, reason: errorMessage(error).split('\n')[0] };
      }
    },
    async run() {
      const kube = await ctx.kube();
      return `Kubernetes ${(await kube.version(30_000)).gitVersion} at ${serverOf(kube)}`;
    },
  };
}

export function serverOf(kube: Kube): string {
  return kube.kc.getCurrentCluster()?.server ?? '(no server)';
}

/**
 * Preflight on a cluster koala did not create: what decides whether the platform can be
 * installed there and will work. Docker, kind, ports and the host's limits do not matter here.
 */
export async function runExistingPreflight(ctx: PlatformContext): Promise<CheckOutcome[]> {
  const connection = ctx.kube().then(
    async (kube) => ({ ok: true as const, kube, version: (await kube.version(10_000)).gitVersion }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  const withCluster = (
    id: string,
    title: string,
    fn: (kube: Kube, version: string) => Promise<Omit<CheckOutcome, 'id' | 'title'>>,
  ): Promise<CheckOutcome> =>
    guard(id, title, async () => {
      const c = await connection;
      if (!c.ok) return { status: 'fail', detail: 'unknown: the API server does not answer' };
      return fn(c.kube, c.version);
    });
  const { context } = ctx.kubeTarget;
  return Promise.all([
    helmCheck(),
    guard('api-server', `the API server of context "${context}", Kubernetes ${MIN_KUBERNETES}+`, async () => {
      const c = await connection;
      if (!c.ok)
        return {
          status: 'fail',
          detail: errorMessage(c.error).split('\n')[0]!,
          fix: `Check the context with \`kubectl --context ${context} version\`, and KUBECONFIG.`,
        };
      const v = parseVersion(c.version);
      if (v && !atLeast(v, MIN_KUBERNETES))
        return {
          status: 'fail',
          detail: `Kubernetes ${c.version} at ${serverOf(c.kube)} is older than ${MIN_KUBERNETES}`,
          fix: "Upgrade the cluster, or use koala's own kind cluster (leave cluster.context unset).",
        };
      return { status: 'pass', detail: `Kubernetes ${c.version} at ${serverOf(c.kube)}` };
    }),
    withCluster('rbac-rights', 'rights to install the platform', async (kube) => checkRights(kube)),
    withCluster('storage-class', 'a default StorageClass for volumes', async (kube) => checkStorage(ctx, kube)),
    withCluster('network-policies', 'the network plugin enforces NetworkPolicies', async (kube) =>
      checkNetworkPolicies(ctx, kube),
    ),
    withCluster('namespaces', "koala's namespaces are free or koala's", async (kube) => checkNamespaces(ctx, kube)),
  ]);
}

async function selfCan(kube: Kube, attributes: Record<string, string>): Promise<boolean> {
  const { status, body } = await kube.raw('/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectAccessReview',
      spec: { resourceAttributes: attributes },
    }),
  });
  if (status < 200 || status >= 300) throw new Error(`SelfSubjectAccessReview: HTTP ${status}`);
  return Boolean((JSON.parse(body) as { status?: { allowed?: boolean } }).status?.allowed);
}

async function checkRights(kube: Kube): Promise<Omit<CheckOutcome, 'id' | 'title'>> {
  if (await selfCan(kube, { verb: '*', group: '*', resource: '*' }))
    return { status: 'pass', detail: 'every verb on every resource (cluster-admin)' };
  const answers = await Promise.all(INSTALL_RIGHTS.map(async (r) => ({ ...r, allowed: await selfCan(kube, r) })));
  const missing = answers
    .filter((a) => !a.allowed)
    .map((a) => `${a.verb} ${a.resource}${a.group ? `.${a.group}` : ''}`);
  if (missing.length === 0) return { status: 'pass', detail: `${INSTALL_RIGHTS.length} rights the charts need` };
  return {
    status: 'fail',
    detail: `this context may not ${missing.join(', ')}`,
    fix: "Ask the cluster's admin for cluster-admin here: the charts create CRDs, ClusterRoles and namespaces.",
  };
}

const DEFAULT_CLASS = [
  'storageclass.kubernetes.io/is-default-class',
  'storageclass.beta.kubernetes.io/is-default-class',
];

async function checkStorage(ctx: PlatformContext, kube: Kube): Promise<Omit<CheckOutcome, 'id' | 'title'>> {
  const classes = await kube.list<V1StorageClass>('storage.k8s.io/v1', 'StorageClass');
  const defaults = classes.filter((c) => DEFAULT_CLASS.some((a) => c.metadata?.annotations?.[a] === 'true'));
  if (defaults.length > 0) return { status: 'pass', detail: defaults.map((c) => c.metadata?.name).join(', ') };
  const claims = ['objectStore', 'airflow'].filter((id) => ctx.config.components[id]?.enabled !== false);
  if (claims.length === 0) return { status: 'pass', detail: 'no component claims a volume' };
  return {
    status: 'warn',
    detail:
      `no default StorageClass (${classes.length} classes): the volumes of ${claims.join(' and ')} ` +
      'stay Pending unless PersistentVolumes are provided for them',
    fix: 'Mark a StorageClass as the default (annotation storageclass.kubernetes.io/is-default-class: "true").',
  };
}

async function checkNetworkPolicies(ctx: PlatformContext, kube: Kube): Promise<Omit<CheckOutcome, 'id' | 'title'>> {
  if (!ctx.config.networkPolicies.enabled)
    return { status: 'pass', detail: 'off in koala.yaml (networkPolicies.enabled)' };
  const names = (await kube.list<V1DaemonSet>('apps/v1', 'DaemonSet')).map((d) => d.metadata?.name ?? '');
  const { enforcing, notEnforcing } = networkPolicyEnforcement(names);
  if (enforcing.length > 0) return { status: 'pass', detail: enforcing.join(', ') };
  const fix =
    "koala's NetworkPolicies are applied either way; install a plugin that enforces them (Calico, Cilium), " +
    'or turn them off with networkPolicies.enabled: false';
  if (notEnforcing.length > 0)
    return { status: 'warn', detail: `${notEnforcing.join(', ')} does not enforce NetworkPolicies`, fix };
  return { status: 'warn', detail: 'unknown: no network plugin koala knows runs as a DaemonSet', fix };
}

/**
 * koala's namespaces that exist (none Terminating), and whether koala made each: its chart's are
 * annotated with the platform release. The system namespace holds the releases and is made by helm
 * without that mark, so the caller says whether it is koala's (`systemIsKoalas`).
 */
async function koalaNamespaces(
  ctx: PlatformContext,
  kube: Kube,
  systemIsKoalas: () => Promise<boolean>,
): Promise<Array<{ name: string; ours: boolean }>> {
  const system = ctx.config.namespaces.system;
  const names = allNamespaces(ctx.config);
  const found = await Promise.all(
    names.map((name) => kube.get<V1Namespace>({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
  );
  const live = found.filter((ns): ns is V1Namespace => ns !== undefined && ns.status?.phase !== 'Terminating');
  return Promise.all(
    live.map(async (ns) => {
      const name = ns.metadata!.name!;
      const marked = ns.metadata?.annotations?.['meta.helm.sh/release-name'] === RELEASES.platform;
      return { name, ours: marked || (name === system && (await systemIsKoalas())) };
    }),
  );
}

async function checkNamespaces(ctx: PlatformContext, kube: Kube): Promise<Omit<CheckOutcome, 'id' | 'title'>> {
  const system = ctx.config.namespaces.system;
  const existing = await koalaNamespaces(ctx, kube, async () =>
    (await helmReleasesIn(kube, system)).includes(RELEASES.platform),
  );
  const foreign = existing.filter((ns) => !ns.ours).map((ns) => ns.name);
  if (foreign.length === 0) return { status: 'pass', detail: allNamespaces(ctx.config).join(', ') };
  return {
    status: 'fail',
    detail: `${foreign.join(', ')} already exist and koala did not make them`,
    fix: 'Pick other names in koala.yaml (namespaces.*, spark.jobNamespaces), or remove those namespaces.',
  };
}

/** The Helm releases stored in a namespace (Helm 3 and 4 keep each revision in a Secret labelled owner=helm). */
export async function helmReleasesIn(kube: Kube, namespace: string): Promise<string[]> {
  const secrets = await kube.list<V1Secret>('v1', 'Secret', { namespace, labelSelector: 'owner=helm' });
  return [...new Set(secrets.map((s) => s.metadata?.labels?.name ?? ''))].filter(Boolean).sort();
}

/**
 * The end of `down` on a cluster koala did not create: the namespaces koala made. Its chart keeps
 * them on uninstall (helm.sh/resource-policy: keep), so a release removed by mistake never takes
 * data with it; `down` removes them on purpose. The system namespace goes too when this machine
 * installed there (its record of the user's yes: preflight then found the namespace free or
 * koala's) and no Helm release is left in it. Namespaces koala did not make stay.
 */
export function namespacesStep(ctx: PlatformContext): Step {
  const names = allNamespaces(ctx.config);
  const system = ctx.config.namespaces.system;
  const ours = async (kube: Kube): Promise<string[]> =>
    (await koalaNamespaces(ctx, kube, async () => (await readConsent(ctx.home)) !== undefined))
      .filter((ns) => ns.ours)
      .map((ns) => ns.name);
  return {
    id: 'namespaces',
    title: `Delete koala's namespaces (${names.join(', ')}) and what is in them`,
    plan: () => names.map((name) => ({ kind: 'note' as const, text: `delete namespace ${name} if koala made it` })),
    async check() {
      const left = await ours(await ctx.kube());
      return left.length === 0 ? { done: true, detail: 'none left' } : { done: false };
    },
    async run() {
      const kube = await ctx.kube();
      const releases = await helmReleasesIn(kube, system);
      if (releases.length > 0)
        throw new KoalaError(`Namespace ${system} still holds Helm releases ${releases.join(', ')}; koala leaves it`, {
          hint: `Uninstall them (\`helm uninstall <release> -n ${system}\`), then run \`koala down\` again.`,
        });
      const left = await ours(kube);
      for (const name of left) await kube.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
      return `deleting ${left.join(', ')}`;
    },
  };
}
