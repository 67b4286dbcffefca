import type { KoalaConfig } from '../../config/schema.ts';
import {
  allowRules,
  groups,
  type AllowRule,
  type ApiServerAddress,
  type Group,
  type GroupId,
  type LabelSelector,
} from './matrix.ts';

/**
 * NetworkPolicies from the allow matrix: default-deny in every platform namespace, then for
 * each rule an egress policy where the sources live and an ingress policy where the
 * destinations live (traffic must be let out of one and into the other). Pure: same matrix,
 * same policies.
 */

export interface PolicySpec {
  name: string;
  namespace: string;
  why?: string;
  spec: {
    podSelector: LabelSelector;
    policyTypes: Array<'Ingress' | 'Egress'>;
    ingress?: Array<{ from?: Peer[]; ports?: PortSpec[] }>;
    egress?: Array<{ to?: Peer[]; ports?: PortSpec[] }>;
  };
}

type Peer =
  { namespaceSelector?: LabelSelector; podSelector?: LabelSelector } | { ipBlock: { cidr: string; except?: string[] } };
type PortSpec = { port: number; protocol: 'TCP' | 'UDP' };

const NAMESPACE_LABEL = 'kubernetes.io/metadata.name';
const nsSelector = (ns: string): LabelSelector => ({ matchLabels: { [NAMESPACE_LABEL]: ns } });

/** Peers that stand for a group, seen from a policy in `fromNamespace`. */
function peers(group: Group, fromNamespace: string, sameNamespace: boolean): Peer[] | undefined {
  switch (group.kind) {
    case 'anywhere':
      return undefined; // no `from`: any source
    case 'addresses':
      return group.cidrs.map((cidr) => ({ ipBlock: group.except?.length ? { cidr, except: group.except } : { cidr } }));
    case 'labelled-namespaces':
      return [{ namespaceSelector: { matchLabels: group.namespaceLabels }, podSelector: group.pods }];
    case 'platform':
    case 'external-pods': {
      const namespaces = sameNamespace ? group.namespaces.filter((ns) => ns === fromNamespace) : group.namespaces;
      return namespaces.map((ns) =>
        ns === fromNamespace
          ? { podSelector: group.pods }
          : { namespaceSelector: nsSelector(ns), podSelector: group.pods },
      );
    }
  }
}

function ports(rule: AllowRule): PortSpec[] | undefined {
  return rule.ports === 'all' ? undefined : rule.ports.map((p) => ({ port: p.port, protocol: p.protocol }));
}

export function renderPolicies(config: KoalaConfig, apiServer: ApiServerAddress): PolicySpec[] {
  const all = groups(config, apiServer);
  const out: PolicySpec[] = [];
  const platformNamespaces = [
    ...new Set(Object.values(all).flatMap((g) => (g.kind === 'platform' ? g.namespaces : []))),
  ];
  for (const namespace of platformNamespaces) {
    out.push({
      name: 'koala-default-deny',
      namespace,
      why: 'deny everything not allowed by another policy',
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
  }
  for (const rule of allowRules(config, apiServer)) {
    const to = all[rule.to]!;
    const rulePorts = ports(rule);
    const withPorts = <T extends object>(o: T): T & { ports?: PortSpec[] } =>
      rulePorts ? { ...o, ports: rulePorts } : o;
    for (const fromId of rule.from) {
      const from = all[fromId]!;
      // Egress where the sources are (only platform pods are isolated for egress).
      if (from.kind === 'platform') {
        for (const namespace of from.namespaces) {
          const toPeers = peers(to, namespace, Boolean(rule.sameNamespace));
          if (toPeers && toPeers.length === 0) continue;
          out.push({
            name: policyName(rule, fromId, 'egress'),
            namespace,
            why: rule.why,
            spec: {
              podSelector: from.pods,
              policyTypes: ['Egress'],
              egress: [withPorts(toPeers ? { to: toPeers } : {})],
            },
          });
        }
      }
    }
    // Ingress where the destinations are: one policy per destination namespace, all sources in it.
    if (to.kind === 'platform') {
      for (const namespace of to.namespaces) {
        const fromPeers: Peer[] = [];
        let anySource = false;
        for (const fromId of rule.from) {
          const p = peers(all[fromId]!, namespace, Boolean(rule.sameNamespace));
          if (p === undefined) anySource = true;
          else fromPeers.push(...p);
        }
        if (!anySource && fromPeers.length === 0) continue;
        out.push({
          name: policyName(rule, rule.to, 'ingress'),
          namespace,
          why: rule.why,
          spec: {
            podSelector: to.pods,
            policyTypes: ['Ingress'],
            ingress: [withPorts(anySource ? {} : { from: fromPeers })],
          },
        });
      }
    }
  }
  return out;
}

function policyName(rule: AllowRule, group: GroupId, direction: 'egress' | 'ingress'): string {
  // The group is in the name when a rule has several sources that share a namespace.
  return rule.from.length > 1 && direction === 'egress'
    ? `koala-${rule.id}-${group}-${direction}`
    : `koala-${rule.id}-${direction}`;
}
