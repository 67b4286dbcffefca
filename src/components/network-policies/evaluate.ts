/**
 * A NetworkPolicy evaluator: given the policies as the API server stores them and the
 * namespaces' labels, may this endpoint open a connection to that one on this port? It follows
 * the networking.k8s.io/v1 semantics, written independently of koala's renderer so that a test
 * can check rendered policies against the allow matrix:
 *
 * - A pod is isolated for egress (ingress) when a policy of its namespace selects it and lists
 *   Egress (Ingress) in policyTypes (by default Ingress, plus Egress when egress rules exist).
 *   A connection needs the source's egress and the destination's ingress to allow it; a side
 *   that is not isolated (or is not a pod) allows everything.
 * - Rules of all policies selecting a pod are OR-ed. A rule with no `to`/`from` matches every
 *   peer; with no `ports`, every port. A peer is an ipBlock, a podSelector (the policy's
 *   namespace), a namespaceSelector, or both (AND).
 * - ipBlock peers match addresses; whether they also match pod IPs is implementation-defined,
 *   so it is an option (off: pods are matched by labels, as identity-based plugins do).
 */

export interface Selector {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] | null }> | null;
}

export interface PolicyPeer {
  podSelector?: Selector | null;
  namespaceSelector?: Selector | null;
  ipBlock?: { cidr: string; except?: string[] | null } | null;
}

export interface PolicyPort {
  protocol?: string | null;
  port?: number | string | null;
  endPort?: number | null;
}

export interface NetworkPolicyLike {
  metadata?: { name?: string; namespace?: string };
  spec?: {
    podSelector?: Selector | null;
    policyTypes?: string[] | null;
    /** client-node's typed model calls `from` `_from`; both are read. */
    ingress?: Array<{ from?: PolicyPeer[] | null; _from?: PolicyPeer[] | null; ports?: PolicyPort[] | null }> | null;
    egress?: Array<{ to?: PolicyPeer[] | null; ports?: PolicyPort[] | null }> | null;
  };
}

export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
}

export type Endpoint =
  | {
      kind: 'pod';
      name?: string;
      namespace: string;
      labels: Record<string, string>;
      ip?: string;
      ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
    }
  | { kind: 'ip'; name?: string; ip: string };

export interface Connection {
  from: Endpoint;
  to: Endpoint;
  port: number;
  protocol?: 'TCP' | 'UDP' | 'SCTP';
}

export interface Side {
  isolated: boolean;
  /** Names of the policies whose rules allow it. */
  allowedBy: string[];
}

export interface Verdict {
  allowed: boolean;
  egress: Side;
  ingress: Side;
}

export function matchesSelector(selector: Selector | null | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) if (labels[key] !== value) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
        if (!has || !values.includes(labels[e.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[e.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
      default:
        return false; // an operator this evaluator does not know selects nothing
    }
  }
  return true;
}

function ipv4(ip: string): number | undefined {
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  let n = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    n = n * 256 + Number(part);
  }
  return n;
}

export function cidrContains(cidr: string, ip: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText ?? 32);
  const a = ipv4(base ?? '');
  const b = ipv4(ip);
  if (a === undefined || b === undefined || !(bits >= 0 && bits <= 32)) return false;
  if (bits === 0) return true;
  const mask = 2 ** 32 - 2 ** (32 - bits);
  return (a & mask) >>> 0 === (b & mask) >>> 0;
}

export class PolicyEvaluator {
  private readonly namespaces: Map<string, Record<string, string>>;
  private readonly policies: readonly NetworkPolicyLike[];
  private readonly options: { ipBlockMatchesPods?: boolean };

  constructor(
    policies: readonly NetworkPolicyLike[],
    namespaces: readonly NamespaceInfo[],
    options: { ipBlockMatchesPods?: boolean } = {},
  ) {
    this.policies = policies;
    this.options = options;
    // The API server labels every namespace with its name; make sure the model does too.
    this.namespaces = new Map(namespaces.map((n) => [n.name, { 'kubernetes.io/metadata.name': n.name, ...n.labels }]));
  }

  allows(c: Connection): Verdict {
    const protocol = c.protocol ?? 'TCP';
    const egress = this.side('Egress', c.from, c.to, c.port, protocol);
    const ingress = this.side('Ingress', c.to, c.from, c.port, protocol);
    return {
      allowed: (!egress.isolated || egress.allowedBy.length > 0) && (!ingress.isolated || ingress.allowedBy.length > 0),
      egress,
      ingress,
    };
  }

  /** The policies of `subject`'s namespace for one direction; `peer` is the other end. */
  private side(
    direction: 'Ingress' | 'Egress',
    subject: Endpoint,
    peer: Endpoint,
    port: number,
    protocol: string,
  ): Side {
    if (subject.kind !== 'pod') return { isolated: false, allowedBy: [] };
    const applicable = this.policies.filter(
      (p) =>
        p.metadata?.namespace === subject.namespace &&
        matchesSelector(p.spec?.podSelector ?? {}, subject.labels) &&
        types(p).includes(direction),
    );
    const allowedBy: string[] = [];
    // Named ports resolve against the destination pod's container ports.
    const destination = direction === 'Ingress' ? subject : peer;
    for (const policy of applicable) {
      const rules =
        direction === 'Ingress'
          ? (policy.spec?.ingress ?? []).map((r) => ({ peers: r.from ?? r._from, ports: r.ports }))
          : (policy.spec?.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
      const ok = rules.some(
        (r) => this.peersMatch(r.peers, peer, subject.namespace) && portsMatch(r.ports, port, protocol, destination),
      );
      if (ok) allowedBy.push(policy.metadata?.name ?? '?');
    }
    return { isolated: applicable.length > 0, allowedBy };
  }

  private peersMatch(peers: PolicyPeer[] | null | undefined, endpoint: Endpoint, policyNamespace: string): boolean {
    if (!peers || peers.length === 0) return true;
    return peers.some((peer) => this.peerMatches(peer, endpoint, policyNamespace));
  }

  private peerMatches(peer: PolicyPeer, endpoint: Endpoint, policyNamespace: string): boolean {
    if (peer.ipBlock) {
      const ip = endpoint.kind === 'ip' ? endpoint.ip : this.options.ipBlockMatchesPods ? endpoint.ip : undefined;
      if (!ip) return false;
      return cidrContains(peer.ipBlock.cidr, ip) && !(peer.ipBlock.except ?? []).some((e) => cidrContains(e, ip));
    }
    if (endpoint.kind !== 'pod') return false;
    if (!peer.podSelector && !peer.namespaceSelector) return false; // an empty peer is invalid; it selects nothing
    if (peer.namespaceSelector) {
      const labels = this.namespaces.get(endpoint.namespace) ?? { 'kubernetes.io/metadata.name': endpoint.namespace };
      if (!matchesSelector(peer.namespaceSelector, labels)) return false;
    } else if (endpoint.namespace !== policyNamespace) {
      return false;
    }
    return peer.podSelector ? matchesSelector(peer.podSelector, endpoint.labels) : true;
  }
}

function types(policy: NetworkPolicyLike): string[] {
  const given = policy.spec?.policyTypes;
  if (given && given.length > 0) return given;
  return ['Ingress', ...(policy.spec?.egress?.length ? ['Egress'] : [])];
}

function portsMatch(
  ports: PolicyPort[] | null | undefined,
  port: number,
  protocol: string,
  destination: Endpoint,
): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined || p.port === null) return true;
    if (typeof p.port === 'string' && !/^\d+$/.test(p.port)) {
      if (destination.kind !== 'pod') return false;
      return (destination.ports ?? []).some(
        (cp) => cp.name === p.port && cp.containerPort === port && (cp.protocol ?? 'TCP') === protocol,
      );
    }
    const start = Number(p.port);
    const end = p.endPort ?? start;
    return port >= start && port <= end;
  });
}
