import type { KoalaConfig } from '../../config/schema.ts';
import { allowRules, groups, UNRULED_PATHS, type ApiServerAddress, type Group, type LabelSelector } from './matrix.ts';

/** The allow matrix as the Markdown of docs/network-policies.md (a unit test keeps the file in step). */

/** What the docs show for the API server: kind's addresses are discovered at install. */
export const DOC_API_SERVER: ApiServerAddress = { ips: [], ports: [443, 6443] };

function selector(s: LabelSelector): string {
  const parts = [
    ...Object.entries(s.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`),
    ...(s.matchExpressions ?? []).map((e) => `${e.key} ${e.operator}${e.values ? ` (${e.values.join(', ')})` : ''}`),
  ];
  return parts.length ? parts.map((p) => `\`${p}\``).join(', ') : 'all pods';
}

function where(g: Group): string {
  switch (g.kind) {
    case 'anywhere':
      return 'any address';
    case 'addresses':
      return g.id === 'api-server'
        ? 'the endpoints of `default/kubernetes` and its ClusterIP, each as a /32 (read from the cluster at install)'
        : g.cidrs.length
          ? g.cidrs.map((c) => `\`${c}\``).join(', ') +
            (g.except?.length ? ` except ${g.except.map((c) => `\`${c}\``).join(', ')}` : '')
          : '(none configured)';
    case 'labelled-namespaces':
      return `namespaces labelled ${selector({ matchLabels: g.namespaceLabels })}: ${selector(g.pods)}`;
    default:
      return `namespace ${g.namespaces.map((n) => `\`${n}\``).join(', ')}: ${selector(g.pods)}`;
  }
}

export function networkPoliciesMarkdown(config: KoalaConfig, apiServer: ApiServerAddress = DOC_API_SERVER): string {
  const all = groups(config, apiServer);
  const rules = allowRules(config, apiServer);
  const title = (id: keyof typeof all): string => `**${id}**`;
  const lines: string[] = [
    '# Network policies: the allow matrix',
    '',
    '<!-- Generated from src/components/network-policies/matrix.ts by `node scripts/docs/generate.ts`; ' +
      'test/unit/platform keeps it in step. Do not edit by hand. -->',
    '',
    'Every platform namespace starts with **default-deny** for ingress and egress (`koala-default-deny`).',
    'Each row below then opens one path: an egress policy where the sources run and an ingress policy where',
    'the destinations run. Anything not in the table is denied. koala renders the policies from this very',
    'table, and a test checks the policies the API server stored against it, pod by pod and port by port.',
    '',
    '## Who is who',
    '',
    '| Group | What | Where |',
    '| --- | --- | --- |',
    ...Object.values(all)
      .filter((g) => g.id !== 'job-egress' || rules.some((r) => r.to === 'job-egress'))
      .map((g) => `| ${title(g.id)} | ${g.title} | ${where(g)} |`),
    '',
    '## Allowed connections',
    '',
    '| Rule | From | To | Ports | Why |',
    '| --- | --- | --- | --- | --- |',
    ...rules.map((r) => {
      const ports = r.ports === 'all' ? 'all' : r.ports.map((p) => `${p.port}/${p.protocol}`).join(', ');
      const to = `${title(r.to)}${r.sameNamespace ? ' (same namespace)' : ''}`;
      return `| \`${r.id}\` | ${r.from.map((f) => title(f)).join(', ')} | ${to} | ${ports} | ${r.why} |`;
    }),
    '',
    'The API server ports are those of its endpoints and Service: 6443 and 443 on kind.',
    '',
    '## Paths that need no rule',
    '',
    ...UNRULED_PATHS.map((p) => `- ${p.path}: ${p.why}.`),
    '',
    '## Notes',
    '',
    '- Jobs reach nothing outside the cluster. To let them download packages, list CIDRs in',
    '  `networkPolicies.jobEgressCidrs` (for example `0.0.0.0/0`); that adds the `jobs-egress` row.',
    '- `networkPolicies.enabled: false` in koala.yaml leaves the policies out.',
    '- kind enforces NetworkPolicies from v0.24 on (kindnet); other CNIs that implement the API work the same way.',
    '',
  ];
  return lines.join('\n');
}
