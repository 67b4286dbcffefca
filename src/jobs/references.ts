import type { KoalaConfig } from '../config/schema.ts';
import { KubeApiError, type Kube, type Manifest } from '../kube/client.ts';

/**
 * What a SparkApplication spec needs from its namespace (ConfigMaps, Secrets, claims) and what
 * in it the installed operator would not act on. Both are read from the spec alone, so the
 * checks run before anything is created.
 */

export type ReferencedKind = 'ConfigMap' | 'Secret' | 'PersistentVolumeClaim';

export interface Reference {
  kind: ReferencedKind;
  name: string;
  /** Where the spec names it, e.g. spec.volumes[0].configMap.name. */
  field: string;
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined;
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/** Every ConfigMap, Secret and claim the pods need; optional references are left out. */
export function referencedObjects(spec: Obj, prefix = 'spec'): Reference[] {
  const refs: Reference[] = [];
  const add = (kind: ReferencedKind, name: unknown, field: string, optional?: unknown): void => {
    if (str(name) && optional !== true) refs.push({ kind, name: name as string, field });
  };
  /** A `{name, optional}` reference (configMap, configMapRef, secretRef, key refs…). */
  const ref = (kind: ReferencedKind, holder: unknown, field: string, key = 'name'): void =>
    add(kind, obj(holder)?.[key], `${field}.${key}`, obj(holder)?.optional);
  list(spec.volumes).forEach((v, i) => {
    const volume = obj(v) ?? {};
    const at = `${prefix}.volumes[${i}]`;
    ref('ConfigMap', volume.configMap, `${at}.configMap`);
    ref('Secret', volume.secret, `${at}.secret`, 'secretName');
    ref('PersistentVolumeClaim', volume.persistentVolumeClaim, `${at}.persistentVolumeClaim`, 'claimName');
    list(obj(volume.projected)?.sources).forEach((s, j) => {
      ref('ConfigMap', obj(s)?.configMap, `${at}.projected.sources[${j}].configMap`);
      ref('Secret', obj(s)?.secret, `${at}.projected.sources[${j}].secret`);
    });
  });
  add('ConfigMap', spec.sparkConfigMap, `${prefix}.sparkConfigMap`);
  add('ConfigMap', spec.hadoopConfigMap, `${prefix}.hadoopConfigMap`);
  for (const role of ['driver', 'executor']) {
    const pod = obj(spec[role]) ?? {};
    const at = `${prefix}.${role}`;
    list(pod.configMaps).forEach((c, i) => add('ConfigMap', obj(c)?.name, `${at}.configMaps[${i}].name`));
    list(pod.secrets).forEach((s, i) => add('Secret', obj(s)?.name, `${at}.secrets[${i}].name`));
    list(pod.envFrom).forEach((e, i) => {
      ref('ConfigMap', obj(e)?.configMapRef, `${at}.envFrom[${i}].configMapRef`);
      ref('Secret', obj(e)?.secretRef, `${at}.envFrom[${i}].secretRef`);
    });
    list(pod.env).forEach((e, i) => {
      const from = obj(obj(e)?.valueFrom) ?? {};
      ref('ConfigMap', from.configMapKeyRef, `${at}.env[${i}].valueFrom.configMapKeyRef`);
      ref('Secret', from.secretKeyRef, `${at}.env[${i}].valueFrom.secretKeyRef`);
    });
    for (const [variable, r] of Object.entries(obj(pod.envSecretKeyRefs) ?? {})) {
      add('Secret', obj(r)?.name, `${at}.envSecretKeyRefs.${variable}.name`);
    }
  }
  // Spark's own secret confs: spark.kubernetes.{driver,executor}.secretKeyRef.ENV=secret:key
  // and spark.kubernetes.{driver,executor}.secrets.<secret>=path.
  for (const [key, value] of Object.entries(obj(spec.sparkConf) ?? {})) {
    const conf = /^spark\.kubernetes\.(driver|executor)\.(secretKeyRef\.[^.]+|secrets\.(.+))$/.exec(key);
    if (!conf || typeof value !== 'string') continue;
    add('Secret', conf[3] ?? value.split(':')[0], `${prefix}.sparkConf["${key}"]`);
  }
  return refs;
}

/** volumeMounts naming a volume spec.volumes does not declare: the pod could not be created. */
export function undeclaredMounts(spec: Obj, prefix: string[] = ['spec']): Array<{ path: string[]; name: string }> {
  const declared = new Set(list(spec.volumes).map((v) => obj(v)?.name));
  const out: Array<{ path: string[]; name: string }> = [];
  for (const role of ['driver', 'executor']) {
    list(obj(spec[role])?.volumeMounts).forEach((m, i) => {
      const name = obj(m)?.name;
      if (typeof name === 'string' && !declared.has(name)) {
        out.push({ path: [...prefix, role, 'volumeMounts', String(i), 'name'], name });
      }
    });
  }
  return out;
}

const RESOURCES: Record<ReferencedKind, string> = {
  ConfigMap: 'configmaps',
  Secret: 'secrets',
  PersistentVolumeClaim: 'persistentvolumeclaims',
};
/** Only whether it exists: the metadata, never a Secret's data. */
const METADATA_ONLY = { Accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json' };

/** References that neither exist in the namespace nor come with the run. */
export async function missingReferences(
  kube: Kube,
  namespace: string,
  refs: Reference[],
  provided: Manifest[] = [],
): Promise<Reference[]> {
  const wanted = refs.filter((r) => !provided.some((p) => p.kind === r.kind && p.metadata.name === r.name));
  const unique = [...new Map(wanted.map((r) => [`${r.kind}/${r.name}`, r])).values()];
  const exists = await Promise.all(
    unique.map(async (r) => {
      const path = `/api/v1/namespaces/${namespace}/${RESOURCES[r.kind]}/${r.name}`;
      const { status, body } = await kube.raw(path, { headers: METADATA_ONLY });
      if (status === 404) return false;
      if (status < 200 || status >= 300) throw new KubeApiError(status, `GET ${path}`, body);
      return true;
    }),
  );
  const absent = new Set(unique.filter((_, i) => !exists[i]).map((r) => `${r.kind}/${r.name}`));
  return wanted.filter((r) => absent.has(`${r.kind}/${r.name}`));
}

/** What the installed Spark operator acts on, per koala's chart values and the user's overrides. */
export interface OperatorFeatures {
  batchScheduler: boolean;
  uiIngress: boolean;
  webhook: boolean;
}

/**
 * koala installs the chart with its webhook on and the batch scheduler and UI ingress at the
 * chart's defaults (off); components.spark-operator.values in koala.yaml can change each.
 */
export function operatorFeatures(config: KoalaConfig): OperatorFeatures {
  const values = obj(config.components['spark-operator']?.values) ?? {};
  const flag = (path: string[], fallback: boolean): boolean => {
    const value = path.reduce<unknown>((o, k) => obj(o)?.[k], values);
    return typeof value === 'boolean' ? value : fallback;
  };
  return {
    batchScheduler: flag(['controller', 'batchScheduler', 'enable'], false),
    uiIngress: flag(['controller', 'uiIngress', 'enable'], false),
    webhook: flag(['webhook', 'enable'], true),
  };
}

/** Pod fields the operator sets through its mutating webhook only. */
const WEBHOOK_FIELDS = [
  'env',
  'envFrom',
  'volumeMounts',
  'affinity',
  'tolerations',
  'securityContext',
  'podSecurityContext',
  'sidecars',
  'initContainers',
  'hostNetwork',
  'schedulerName',
  'dnsConfig',
  'hostAliases',
  'lifecycle',
  'priorityClassName',
  'shareProcessNamespace',
  'terminationGracePeriodSeconds',
];
const VALUES = 'components.spark-operator.values';

/** One line for each field the installed platform will not act on. */
export function ignoredFields(spec: Obj, features: OperatorFeatures, prefix = 'spec'): string[] {
  const notices: string[] = [];
  const scheduler = str(spec.batchScheduler);
  if (!features.batchScheduler && (scheduler || spec.batchSchedulerOptions !== undefined)) {
    const field = scheduler ? `${prefix}.batchScheduler (${scheduler})` : `${prefix}.batchSchedulerOptions`;
    notices.push(
      `${field} is ignored: koala's Spark operator has no batch scheduler enabled, so pods go to the default ` +
        `scheduler (controller.batchScheduler in ${VALUES} enables one)`,
    );
  }
  const ui = obj(spec.sparkUIOptions) ?? {};
  const ingress = ['ingressAnnotations', 'ingressTLS'].filter((k) => ui[k] !== undefined);
  if (!features.uiIngress && ingress.length) {
    const fields = ingress.map((k) => `${prefix}.sparkUIOptions.${k}`).join(', ');
    notices.push(`${fields} ignored: the operator creates no UI ingress (\`koala port-forward <run>\` opens the UI)`);
  }
  if (!features.webhook) {
    const roles = ['driver', 'executor'];
    const set = roles.flatMap((role) =>
      WEBHOOK_FIELDS.filter((f) => obj(spec[role])?.[f] !== undefined).map((f) => `${prefix}.${role}.${f}`),
    );
    if (spec.volumes !== undefined) set.unshift(`${prefix}.volumes`);
    const why = `the operator's webhook is off (webhook.enable in ${VALUES}), and only it sets these on pods`;
    if (set.length) notices.push(`${set.join(', ')} ignored: ${why}`);
  }
  return notices;
}
