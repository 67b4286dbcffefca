import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SERVICE_NODE_PORTS } from '../../../src/cluster/spec.ts';
import type { Component } from '../../../src/components/component.ts';
import type { ComponentDeclaration } from '../../../src/components/declaration.ts';
import { portForwardTargets } from '../../../src/components/endpoints.ts';
import { allNamespaces, DATA_COMPONENTS, RELEASES } from '../../../src/components/names.ts';
import { allowRules, groups } from '../../../src/components/network-policies/matrix.ts';
import { renderPolicies } from '../../../src/components/network-policies/render.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { COMPONENT_IDS } from '../../../src/config/schema.ts';
import { upPlan } from '../../../src/orchestration/plans.ts';
import { collectStatus } from '../../../src/orchestration/status.ts';
import { upSummary } from '../../../src/orchestration/summary.ts';
import { planUpDry } from '../../../src/orchestration/up.ts';
import { UP_STEP_IDS } from '../../../src/orchestration/up-order.ts';

/**
 * "A folder and a line": a component declared once (what would be its folder's declaration.ts
 * and index.ts) and added to the registry list in src/components/index.ts, as the mock below
 * does and nothing else. Its config key, namespace, host port, release, service, NodePort and
 * policy entries then appear in the config schema, the cluster spec, the shared names and the
 * allow matrix; its step in the plan of `koala up`, and it in `koala status`, among the
 * endpoints and as a port-forward target.
 */
const { NOTEBOOK } = vi.hoisted(() => {
  const notebook: Component = {
    id: 'notebook',
    title: 'A notebook server',
    enabled: (config) => config.components.notebook?.enabled !== false,
    steps: () => [
      {
        id: 'notebook',
        title: 'Install the notebook server',
        needs: ['platform'],
        plan: () => [{ kind: 'note', text: 'would install a notebook server' }],
        check: async () => ({ done: true }),
        run: async () => undefined,
      },
    ],
    health: async () => ({ ok: true, detail: 'serving' }),
  };
  const namespace = (config: { namespaces: object }): string =>
    (config.namespaces as Record<string, string>).notebook ?? '';
  const declaration: ComponentDeclaration = {
    id: 'notebook',
    configKey: 'notebook',
    releases: { notebook: 'koala-notebook' },
    namespace: { key: 'notebook', default: 'notebooks' },
    hostPorts: { notebook: { default: 8888, nodePort: 30888 } },
    data: true,
    services: (config) => [
      {
        name: 'notebook',
        namespace: namespace(config),
        service: 'notebook',
        port: 8888,
        localPort: (config.ports as Record<string, number>).notebook ?? 0,
        description: 'Notebook UI',
      },
    ],
    policy: (config) => ({
      groups: [{ id: 'notebook', title: 'Notebooks', kind: 'platform', namespaces: [namespace(config)], pods: {} }],
      rules: [
        {
          id: 'notebook-to-object-store',
          from: ['notebook'],
          to: 'object-store',
          ports: [{ port: 9000, protocol: 'TCP' }],
          why: 'notebooks read data over S3',
        },
      ],
      fromHost: {
        notebook: {
          id: 'host-to-notebook',
          from: ['anywhere'],
          to: 'notebook',
          ports: [{ port: 8888, protocol: 'TCP' }],
          why: 'the host to the notebook UI',
        },
      },
    }),
    load: async () => ({ ...declaration, ...notebook }),
  };
  return { NOTEBOOK: declaration };
});

// The one line: the registry list, with the notebook's declaration at its end.
vi.mock('../../../src/components/index.ts', async (importOriginal) => {
  const actual = await importOriginal<{ DECLARATIONS: readonly ComponentDeclaration[] }>();
  return { ...actual, DECLARATIONS: [...actual.DECLARATIONS, NOTEBOOK] };
});

const saved = { kind: process.env.KOALA_KIND, helm: process.env.KOALA_HELM, home: process.env.KOALA_HOME };
beforeAll(() => {
  const bin = mkdtempSync(path.join(os.tmpdir(), 'koala-kind-'));
  // A kind that knows no clusters: status lists the components as unreachable, touching nothing.
  writeFileSync(path.join(bin, 'kind'), '#!/bin/sh\necho "No kind clusters found." >&2\n');
  chmodSync(path.join(bin, 'kind'), 0o755);
  process.env.KOALA_KIND = path.join(bin, 'kind');
  process.env.KOALA_HELM = '/nonexistent/tool';
  process.env.KOALA_HOME = mkdtempSync(path.join(os.tmpdir(), 'koala-home-'));
});
afterAll(() => {
  for (const [key, value] of Object.entries({
    KOALA_KIND: saved.kind,
    KOALA_HELM: saved.helm,
    KOALA_HOME: saved.home,
  })) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});

async function context(yaml = ''): Promise<ReturnType<typeof planUpDry>['ctx']> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-component-'));
  writeFileSync(path.join(dir, '.git'), '');
  if (yaml) writeFileSync(path.join(dir, 'koala.yaml'), yaml);
  return planUpDry({ loaded: await loadConfig({ cwd: dir, processEnv: {} }), recreate: false }).ctx;
}

const API_SERVER = { ips: ['192.0.2.1'], ports: [6443] };

describe('adding a component: one folder and one line in the registry list', () => {
  it('gets its keys in koala.yaml: components.notebook, namespaces.notebook, ports.notebook', async () => {
    expect(COMPONENT_IDS).toContain('notebook');
    const defaults = (await context()).config;
    expect(defaults.components.notebook).toEqual({ enabled: true });
    expect((defaults.namespaces as Record<string, string>).notebook).toBe('notebooks');
    expect((defaults.ports as Record<string, number>).notebook).toBe(8888);
    const set = (await context('namespaces:\n  notebook: lab\nports:\n  notebook: 8899\n')).config;
    expect((set.namespaces as Record<string, string>).notebook).toBe('lab');
    await expect(context('namespaces:\n  notebook: Not_A_Label\n')).rejects.toThrow(/namespaces\.notebook/);
    await expect(context('ports:\n  notebook: 8080\n')).rejects.toThrow(/port 8080 is also used by/);
  });

  it('gets its release, namespace, data-component flag and NodePort where they are shared', async () => {
    const { config, spec } = await context();
    expect((RELEASES as Record<string, string>).notebook).toBe('koala-notebook');
    expect(DATA_COMPONENTS).toContain('notebook');
    expect(allNamespaces(config)).toContain('notebooks');
    expect((SERVICE_NODE_PORTS as Record<string, number>).notebook).toBe(30888);
    expect(spec.portMappings).toContainEqual({ service: 'notebook', hostPort: 8888, nodePort: 30888 });
  });

  it('gets its groups and rules in the allow matrix, and default-deny in its namespace', async () => {
    const { config } = await context();
    expect(groups(config, API_SERVER).notebook).toMatchObject({ kind: 'platform', namespaces: ['notebooks'] });
    const rules = allowRules(config, API_SERVER);
    expect(rules.find((r) => r.id === 'dns')?.from).toContain('notebook');
    expect(rules.map((r) => r.id)).toEqual(expect.arrayContaining(['notebook-to-object-store', 'host-to-notebook']));
    const policies = renderPolicies(config, API_SERVER).filter((p) => p.namespace === 'notebooks');
    expect(policies.map((p) => p.name)).toEqual(
      expect.arrayContaining(['koala-default-deny', 'koala-notebook-to-object-store-egress']),
    );
  });

  it('is planned after the steps of src/orchestration/up-order.ts, with the needs it brings', async () => {
    const plan = upPlan(await context());
    expect(plan.ids()).toEqual([...UP_STEP_IDS, 'notebook']);
    expect(plan.get('notebook')?.needs).toEqual(['platform']);
  });

  it('is listed by status, among the endpoints and as a port-forward target', async () => {
    const ctx = await context();
    const status = await collectStatus(ctx, AbortSignal.timeout(10_000));
    expect(status.components.map((c) => c.id)).toContain('notebook');
    const summary = upSummary(ctx, { ok: true, interrupted: false, durationMs: 1, steps: [] });
    expect(summary.endpoints).toContainEqual({
      name: 'Notebook UI',
      url: 'http://127.0.0.1:8888',
      portForward: 'koala port-forward notebook',
    });
    expect(portForwardTargets(ctx.config).notebook).toMatchObject({ namespace: 'notebooks', port: 8888 });
  });
});
