import type { KoalaConfig } from '../../config/schema.ts';
import { KIND_POD_SUBNET, tcp, type ComponentDeclaration, type PolicyDeclaration } from '../declaration.ts';
import { hostPorts } from '../host-ports.ts';
import { DECLARATIONS } from '../index.ts';

/**
 * The allow matrix: who may open a connection to whom, on which ports. It is the one table
 * the NetworkPolicies are rendered from (render.ts), docs/network-policies.md is written from
 * (markdown.ts), and the test checks the policies against (through an independent evaluator).
 * Everything not listed is denied: each platform namespace starts with default-deny for
 * ingress and egress. Each component declares its groups and rules (its declaration.ts); this
 * file adds DNS, the API server and networkPolicies.jobEgressCidrs, and puts them in order.
 */

export { KIND_POD_SUBNET };

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }>;
}

/** A group's id: a component's groups (spark-operator, airflow…) and kube-dns, api-server, job-egress, anywhere. */
export type GroupId = string;

export type Group =
  /** Pods of the platform: policies select them, so they are isolated. `apiServer`: they call the API server. */
  | { id: GroupId; title: string; kind: 'platform'; namespaces: string[]; pods: LabelSelector; apiServer?: boolean }
  /** Pods outside the platform, reachable as a destination (kube-dns). */
  | { id: GroupId; title: string; kind: 'external-pods'; namespaces: string[]; pods: LabelSelector }
  /** Pods outside the platform, in whichever namespaces carry these labels: a source only. */
  | {
      id: GroupId;
      title: string;
      kind: 'labelled-namespaces';
      namespaceLabels: Record<string, string>;
      pods: LabelSelector;
    }
  /** Addresses (ipBlock peers); `except` leaves ranges out, such as the pod network. */
  | { id: GroupId; title: string; kind: 'addresses'; cidrs: string[]; except?: string[] }
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

/** What each component declares, in the order of the registry list. */
function declared(config: KoalaConfig): Array<{ component: ComponentDeclaration; policy: PolicyDeclaration }> {
  return (DECLARATIONS as readonly ComponentDeclaration[]).flatMap((component) =>
    component.policy ? [{ component, policy: component.policy(config) }] : [],
  );
}

export function groups(config: KoalaConfig, apiServer: ApiServerAddress): Record<GroupId, Group> {
  const own = declared(config).flatMap((d) => d.policy.groups);
  const outside: Group[] = [
    {
      id: 'kube-dns',
      title: 'Cluster DNS',
      kind: 'external-pods',
      namespaces: ['kube-system'],
      pods: { matchLabels: { 'k8s-app': 'kube-dns' } },
    },
    {
      id: 'api-server',
      title: 'Kubernetes API server',
      kind: 'addresses',
      cidrs: apiServer.ips.map((ip) => `${ip}/32`),
    },
    {
      id: 'job-egress',
      title: 'networkPolicies.jobEgressCidrs',
      kind: 'addresses',
      cidrs: [...config.networkPolicies.jobEgressCidrs],
    },
    {
      id: 'outside-pods',
      title: "any address outside the pod network: the host's mapped ports arrive from a node address",
      kind: 'addresses',
      cidrs: ['0.0.0.0/0'],
      except: [KIND_POD_SUBNET],
    },
    {
      id: 'anywhere',
      title: 'any source (the API server calls webhooks from a node address)',
      kind: 'anywhere',
    },
  ];
  return Object.fromEntries([...own, ...outside].map((g) => [g.id, g]));
}

/**
 * DNS and the API server first, then each component's rules in the order of the registry list,
 * then the host's mapped ports in NodePort order, then networkPolicies.jobEgressCidrs.
 */
export function allowRules(config: KoalaConfig, apiServer: ApiServerAddress): AllowRule[] {
  const components = declared(config);
  const platform = components.flatMap((d) => d.policy.groups).filter((g) => g.kind === 'platform');
  const rules: AllowRule[] = [
    {
      id: 'dns',
      from: platform.map((g) => g.id),
      to: 'kube-dns',
      ports: [
        { port: 53, protocol: 'UDP' },
        { port: 53, protocol: 'TCP' },
      ],
      why: 'name resolution',
    },
    {
      id: 'api-server',
      from: platform.filter((g) => g.apiServer).map((g) => g.id),
      to: 'api-server',
      ports: tcp(...apiServer.ports),
      why:
        'the operator watches and submits, drivers create executors, ' +
        'Airflow submits SparkApplications and reads driver logs',
    },
    ...components.flatMap((d) => d.policy.rules),
  ];
  // kind maps 127.0.0.1:<ports.*> on the host to NodePorts; kube-proxy masquerades NodePort
  // traffic to a node's address, outside the pod network, which these rules admit. A pod that
  // dials a node's address and the NodePort is masqueraded the same way, so a mapped port is
  // open to it too (both services require credentials); only `ports.<key>: 0` closes that.
  // Pods calling the Service directly come from the pod network and are refused.
  for (const port of hostPorts()) {
    const rule = components.find((d) => d.component.id === port.component)?.policy.fromHost?.[port.key];
    if (rule) rules.push(rule);
  }
  if (config.networkPolicies.jobEgressCidrs.length > 0) {
    rules.push({
      id: 'jobs-egress',
      from: ['spark-jobs'],
      to: 'job-egress',
      ports: 'all',
      why: 'networkPolicies.jobEgressCidrs in koala.yaml (e.g. package downloads)',
    });
  }
  const known = new Set(Object.keys(groups(config, apiServer)));
  const unknown = rules.flatMap((r) => [...r.from, r.to]).filter((id) => !known.has(id));
  if (unknown.length > 0) throw new Error(`network policies: rules name unknown groups: ${unknown.join(', ')}`);
  return rules;
}

/** Paths that need no rule, written into the docs beside the table. */
export const UNRULED_PATHS: ReadonlyArray<{ path: string; why: string }> = [
  {
    path: '`koala port-forward` / `kubectl port-forward` to Airflow (8080) and the object store (S3, console)',
    why:
      "the container runtime connects to the port from inside the pod's network namespace, over loopback, " +
      'which NetworkPolicies do not govern',
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
        return (
          e.kind === 'ip' &&
          g.cidrs.some((cidr) => cidrMatch(cidr, e.ip)) &&
          !(g.except ?? []).some((cidr) => cidrMatch(cidr, e.ip))
        );
      case 'labelled-namespaces':
        return (
          e.kind === 'pod' &&
          selects({ matchLabels: g.namespaceLabels }, e.namespaceLabels ?? {}) &&
          selects(g.pods, e.labels)
        );
      default:
        return e.kind === 'pod' && g.namespaces.includes(e.namespace) && selects(g.pods, e.labels);
    }
  };
  const ruleCovers = (r: AllowRule, side: 'egress' | 'ingress'): boolean => {
    const portOk = r.ports === 'all' || r.ports.some((p) => p.port === c.port && p.protocol === protocol);
    const sameOk =
      !r.sameNamespace || (c.from.kind === 'pod' && c.to.kind === 'pod' && c.from.namespace === c.to.namespace);
    const fromOk = r.from.some((id) => (side === 'egress' && id === 'anywhere' ? false : member(c.from, all[id]!)));
    return portOk && sameOk && fromOk && member(c.to, all[r.to]!);
  };
  const rules = allowRules(config, apiServer);
  const egress = !isolated(c.from) || rules.some((r) => ruleCovers(r, 'egress'));
  const ingress = !isolated(c.to) || rules.some((r) => ruleCovers(r, 'ingress'));
  return egress && ingress;
}

export type MatrixEndpoint =
  | { kind: 'pod'; namespace: string; labels: Record<string, string>; namespaceLabels?: Record<string, string> }
  | { kind: 'ip'; ip: string };

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
