import type { KoalaConfig } from '../../config/schema.ts';
import { objectStoreService } from '../object-store/settings.ts';
import { POSTGRES } from '../names.ts';

/**
 * The allow matrix: who may open a connection to whom, on which ports. It is the one table
 * the NetworkPolicies are rendered from (render.ts), docs/network-policies.md is written from
 * (markdown.ts), and the test checks the policies against (through an independent evaluator).
 * Everything not listed is denied: each platform namespace starts with default-deny for
 * ingress and egress.
 */

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

export type GroupId =
  | 'spark-operator'
  | 'spark-jobs'
  | 'object-store'
  | 'airflow'
  | 'airflow-postgres'
  | 'kube-dns'
  | 'api-server'
  | 'job-egress'
  | 'anywhere';

export type Group =
  /** Pods of the platform: policies select them, so they are isolated. */
  | { id: GroupId; title: string; kind: 'platform'; namespaces: string[]; pods: LabelSelector }
  /** Pods outside the platform, reachable as a destination (kube-dns). */
  | { id: GroupId; title: string; kind: 'external-pods'; namespaces: string[]; pods: LabelSelector }
  | { id: GroupId; title: string; kind: 'addresses'; cidrs: string[] }
  /** Any source at all (the API server calling a webhook comes from a node address). */
  | { id: GroupId; title: string; kind: 'anywhere' };

export interface Port {
  port: number;
  protocol: 'TCP' | 'UDP';
}

export interface AllowRule {
  id: string;
  from: GroupId[];
  to: GroupId;
  /** 'all': every port and protocol. */
  ports: Port[] | 'all';
  /** Only between pods of the same namespace (driver ↔ executors of one job namespace). */
  sameNamespace?: boolean;
  why: string;
}

/** Where the API server is, as pods reach it: its endpoints and its Service's ClusterIP. */
export interface ApiServerAddress {
  ips: string[];
  ports: number[];
}

const tcp = (...ports: number[]): Port[] => ports.map((port) => ({ port, protocol: 'TCP' }));
const notPostgres: LabelSelector = {
  matchExpressions: [
    { key: 'app.kubernetes.io/name', operator: 'NotIn', values: [POSTGRES.podLabel['app.kubernetes.io/name']] },
  ],
};

export function groups(config: KoalaConfig, apiServer: ApiServerAddress): Record<GroupId, Group> {
  const n = config.namespaces;
  return {
    'spark-operator': {
      id: 'spark-operator',
      title: 'Spark operator (controller, webhook)',
      kind: 'platform',
      namespaces: [n.sparkOperator],
      pods: {},
    },
    'spark-jobs': {
      id: 'spark-jobs',
      title: 'Spark jobs (drivers, executors)',
      kind: 'platform',
      namespaces: [...config.spark.jobNamespaces],
      pods: {},
    },
    'object-store': {
      id: 'object-store',
      title: `Object store (${config.objectStore.type}, bucket job)`,
      kind: 'platform',
      namespaces: [n.objectStore],
      pods: {},
    },
    airflow: {
      id: 'airflow',
      title: 'Airflow (api-server, scheduler, dag-processor, triggerer, jobs)',
      kind: 'platform',
      namespaces: [n.airflow],
      pods: notPostgres,
    },
    'airflow-postgres': {
      id: 'airflow-postgres',
      title: "Airflow's Postgres",
      kind: 'platform',
      namespaces: [n.airflow],
      pods: { matchLabels: { ...POSTGRES.podLabel } },
    },
    'kube-dns': {
      id: 'kube-dns',
      title: 'Cluster DNS',
      kind: 'external-pods',
      namespaces: ['kube-system'],
      pods: { matchLabels: { 'k8s-app': 'kube-dns' } },
    },
    'api-server': {
      id: 'api-server',
      title: 'Kubernetes API server',
      kind: 'addresses',
      cidrs: apiServer.ips.map((ip) => `${ip}/32`),
    },
    'job-egress': {
      id: 'job-egress',
      title: 'networkPolicies.jobEgressCidrs',
      kind: 'addresses',
      cidrs: [...config.networkPolicies.jobEgressCidrs],
    },
    anywhere: {
      id: 'anywhere',
      title: 'any source (the API server calls webhooks from a node address)',
      kind: 'anywhere',
    },
  };
}

export function allowRules(config: KoalaConfig, apiServer: ApiServerAddress): AllowRule[] {
  const s3 = objectStoreService(config).s3Port;
  const rules: AllowRule[] = [
    {
      id: 'dns',
      from: ['spark-operator', 'spark-jobs', 'object-store', 'airflow', 'airflow-postgres'],
      to: 'kube-dns',
      ports: [
        { port: 53, protocol: 'UDP' },
        { port: 53, protocol: 'TCP' },
      ],
      why: 'name resolution',
    },
    {
      id: 'api-server',
      from: ['spark-operator', 'spark-jobs', 'airflow'],
      to: 'api-server',
      ports: tcp(...apiServer.ports),
      why: 'the operator watches and submits, drivers create executors, Airflow submits SparkApplications and reads driver logs',
    },
    {
      id: 'webhook',
      from: ['anywhere'],
      to: 'spark-operator',
      ports: tcp(9443),
      why: "the API server calls the operator's admission webhook (from a node address)",
    },
    {
      id: 'spark-internal',
      from: ['spark-jobs'],
      to: 'spark-jobs',
      ports: 'all',
      sameNamespace: true,
      why: 'driver ↔ executors (RPC, block manager, shuffle) within one job namespace',
    },
    {
      id: 'jobs-to-object-store',
      from: ['spark-jobs'],
      to: 'object-store',
      ports: tcp(s3),
      why: 'jobs read and write data over S3',
    },
    {
      id: 'airflow-to-object-store',
      from: ['airflow'],
      to: 'object-store',
      ports: tcp(s3),
      why: 'the object_store / aws_default connection',
    },
    {
      id: 'airflow-internal',
      from: ['airflow'],
      to: 'airflow',
      ports: tcp(8080, 8793, 8794),
      why: 'task execution API and UI (api-server 8080), task and trigger log servers (8793, 8794)',
    },
    {
      id: 'airflow-postgres',
      from: ['airflow'],
      to: 'airflow-postgres',
      ports: tcp(POSTGRES.port),
      why: 'the metadata database, from Airflow pods only',
    },
    {
      id: 'object-store-internal',
      from: ['object-store'],
      to: 'object-store',
      ports: 'all',
      sameNamespace: true,
      why: "the store's own parts (SeaweedFS master, volume, filer) and the bucket job",
    },
  ];
  // kind maps 127.0.0.1:<ports.*> on the host to NodePorts; what address that traffic arrives
  // from depends on kube-proxy's SNAT and the CNI, so these ports accept any source (and
  // both services require credentials). Platform pods are still held back by their egress rules.
  const store = objectStoreService(config);
  if (config.ports.airflow)
    rules.push({
      id: 'host-to-airflow',
      from: ['anywhere'],
      to: 'airflow',
      ports: tcp(8080),
      why: `the host's 127.0.0.1:${config.ports.airflow} (kind port mapping → NodePort) to the Airflow UI and API`,
    });
  if (config.ports.objectStore && store.type === 'minio')
    rules.push({
      id: 'host-to-object-store',
      from: ['anywhere'],
      to: 'object-store',
      ports: tcp(store.s3Port),
      why: `the host's 127.0.0.1:${config.ports.objectStore} (kind port mapping → NodePort) to the S3 API`,
    });
  if (config.ports.objectStoreConsole && store.type === 'minio')
    rules.push({
      id: 'host-to-object-store-console',
      from: ['anywhere'],
      to: 'object-store',
      ports: tcp(store.consolePort),
      why: `the host's 127.0.0.1:${config.ports.objectStoreConsole} (kind port mapping → NodePort) to the console`,
    });
  if (config.networkPolicies.jobEgressCidrs.length > 0) {
    rules.push({
      id: 'jobs-egress',
      from: ['spark-jobs'],
      to: 'job-egress',
      ports: 'all',
      why: 'networkPolicies.jobEgressCidrs in koala.yaml (e.g. package downloads)',
    });
  }
  return rules;
}

/** Paths that need no rule, written into the docs beside the table. */
export const UNRULED_PATHS: ReadonlyArray<{ path: string; why: string }> = [
  {
    path: '`koala port-forward` / `kubectl port-forward` to Airflow (8080) and the object store (S3, console)',
    why: "the container runtime connects to the port from inside the pod's network namespace, over loopback, which NetworkPolicies do not govern",
  },
  {
    path: 'kubelet health probes',
    why: 'traffic from the node a pod runs on is always allowed (Kubernetes NetworkPolicy semantics)',
  },
];

/**
 * What the matrix says about one connection, read straight from the table: the expectation a
 * test holds the rendered (and stored) policies to. Pods in a platform namespace are isolated;
 * anything else is governed only by the side that is.
 */
export function matrixAllows(
  config: KoalaConfig,
  apiServer: ApiServerAddress,
  c: { from: MatrixEndpoint; to: MatrixEndpoint; port: number; protocol?: 'TCP' | 'UDP' },
): boolean {
  const all = groups(config, apiServer);
  const protocol = c.protocol ?? 'TCP';
  const platformNs = new Set(Object.values(all).flatMap((g) => (g.kind === 'platform' ? g.namespaces : [])));
  const isolated = (e: MatrixEndpoint): boolean => e.kind === 'pod' && platformNs.has(e.namespace);
  const member = (e: MatrixEndpoint, g: Group): boolean => {
    switch (g.kind) {
      case 'anywhere':
        return true;
      case 'addresses':
        return e.kind === 'ip' && g.cidrs.some((cidr) => cidrMatch(cidr, e.ip));
      default:
        return e.kind === 'pod' && g.namespaces.includes(e.namespace) && selects(g.pods, e.labels);
    }
  };
  const ruleCovers = (r: AllowRule, side: 'egress' | 'ingress'): boolean => {
    const portOk = r.ports === 'all' || r.ports.some((p) => p.port === c.port && p.protocol === protocol);
    const sameOk =
      !r.sameNamespace || (c.from.kind === 'pod' && c.to.kind === 'pod' && c.from.namespace === c.to.namespace);
    const fromOk = r.from.some((id) => (side === 'egress' && id === 'anywhere' ? false : member(c.from, all[id])));
    return portOk && sameOk && fromOk && member(c.to, all[r.to]);
  };
  const rules = allowRules(config, apiServer);
  const egress = !isolated(c.from) || rules.some((r) => ruleCovers(r, 'egress'));
  const ingress = !isolated(c.to) || rules.some((r) => ruleCovers(r, 'ingress'));
  return egress && ingress;
}

export type MatrixEndpoint =
  { kind: 'pod'; namespace: string; labels: Record<string, string> } | { kind: 'ip'; ip: string };

function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const exact = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const expressions = (selector.matchExpressions ?? []).every((e) => {
    const value = labels[e.key];
    if (e.operator === 'In') return value !== undefined && (e.values ?? []).includes(value);
    if (e.operator === 'NotIn') return value === undefined || !(e.values ?? []).includes(value);
    if (e.operator === 'Exists') return value !== undefined;
    return value === undefined;
  });
  return exact && expressions;
}

function cidrMatch(cidr: string, ip: string): boolean {
  const toInt = (a: string): number => a.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  const [base, bits] = cidr.split('/');
  const size = Number(bits ?? 32);
  if (size === 0) return true;
  const block = 2 ** (32 - size);
  return Math.floor(toInt(base!) / block) === Math.floor(toInt(ip) / block);
}
