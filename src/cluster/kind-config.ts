import { readFileSync } from 'node:fs';
import { assetPath } from '../util/paths.ts';
import type { ClusterSpec } from './spec.ts';

/** The base kind config in assets/kind, as data. */
export async function loadKindTemplate(): Promise<Record<string, unknown>> {
  const { load } = await import('js-yaml');
  return load(readFileSync(assetPath('kind', 'cluster.yaml'), 'utf8')) as Record<string, unknown>;
}

interface KindNode {
  role: 'control-plane' | 'worker';
  image: string;
  extraPortMappings?: Array<{ containerPort: number; hostPort: number; listenAddress: string; protocol: 'TCP' }>;
  labels?: Record<string, string>;
}

/**
 * The kind config for a spec, as data (pure: tests compare it field by field). Port mappings go
 * on the first control-plane node: NodePorts answer on every node, and one mapping per host
 * port is all Docker allows.
 */
export function renderKindConfig(spec: ClusterSpec, template: Record<string, unknown>): Record<string, unknown> {
  const nodes: KindNode[] = [];
  for (let i = 0; i < spec.controlPlanes; i++) {
    const node: KindNode = { role: 'control-plane', image: spec.nodeImage };
    if (i === 0 && spec.portMappings.length > 0) {
      node.extraPortMappings = spec.portMappings.map((p) => ({
        containerPort: p.nodePort,
        hostPort: p.hostPort,
        listenAddress: '127.0.0.1',
        protocol: 'TCP',
      }));
    }
    nodes.push(node);
  }
  for (let i = 0; i < spec.workers; i++)
    nodes.push({ role: 'worker', image: spec.nodeImage, labels: { 'koala.dev/pool': 'workloads' } });
  return { ...structuredClone(template), name: spec.name, nodes };
}

export async function kindConfigYaml(spec: ClusterSpec): Promise<string> {
  const { dump } = await import('js-yaml');
  return dump(renderKindConfig(spec, await loadKindTemplate()), { lineWidth: 200, noRefs: true });
}
