import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { koala, makeWorld } from '../support/cli.ts';
import { testbed } from '../support/testbed.ts';
import { upDryRunDocument } from '../support/json-documents.ts';

testbed(); // real helm 3 and 4 come from the test bed

interface HelmAction {
  kind: 'helm';
  release: string;
  objects?: Array<{
    kind: string;
    metadata: { name: string; namespace?: string };
    data?: Record<string, string>;
    stringData?: Record<string, string>;
  }>;
}

const PASSWORD = 'a-private-airflow-password';

/** `koala up --dry-run` shows what koala's own chart creates, not just the values it is given. */
describe.each(['helm3', 'helm4'] as const)("koala up --dry-run lists the objects of koala's chart (%s)", (helm) => {
  it('NetworkPolicies, RoleBindings and Secrets, secret values masked; no tool runs against a cluster', async () => {
    const world = makeWorld({ helm });
    writeFileSync(path.join(world.project, '.env.private'), `AIRFLOW_PASSWORD=${PASSWORD}\n`, { mode: 0o600 });
    const result = await koala(world, ['up', '--dry-run', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(PASSWORD);
    expect(result.stdout).not.toContain(Buffer.from(PASSWORD).toString('base64'));
    upDryRunDocument(result.stdout);
    const plan = JSON.parse(result.stdout) as { steps: Array<{ id: string; actions: Array<{ kind: string }> }> };
    const releases = plan.steps.flatMap((s) => s.actions).filter((a): a is HelmAction => a.kind === 'helm');
    const ours = releases.filter((r) => r.release.startsWith('koala-'));
    expect(ours.map((r) => r.release).sort()).toEqual([
      'koala-network-policies',
      'koala-platform',
      'koala-postgres',
      'koala-rbac',
    ]);
    for (const r of ours) expect(r.objects?.length, r.release).toBeGreaterThan(0);
    // Upstream charts are fetched at install time; the plan names them only.
    for (const r of releases.filter((x) => !x.release.startsWith('koala-')))
      expect(r.objects, r.release).toBeUndefined();

    const objects = ours.flatMap((r) => r.objects ?? []);
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of ['Namespace', 'Secret', 'NetworkPolicy', 'RoleBinding']) expect(kinds, kind).toContain(kind);
    const policies = ours.find((r) => r.release === 'koala-network-policies')!.objects!;
    expect(policies.filter((o) => o.kind === 'NetworkPolicy').map((o) => o.metadata.name)).toContain(
      'koala-default-deny',
    );

    const secrets = objects.filter((o) => o.kind === 'Secret');
    expect(secrets.map((s) => s.metadata.name)).toEqual(
      expect.arrayContaining(['airflow-admin', 'object-store-credentials']),
    );
    for (const s of secrets) {
      const values = Object.values({ ...s.data, ...s.stringData });
      expect(values.length, s.metadata.name).toBeGreaterThan(0);
      for (const v of values) expect(v, s.metadata.name).toBe('<redacted>');
    }
    expect(world.calls()).toEqual([]); // no kind, docker or kubectl
  });

  it("the text plan shows them under each release of koala's chart", async () => {
    const result = await koala(makeWorld({ helm }), ['up', '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    // The release line, then (further down) the rendered objects, the first a NetworkPolicy.
    const release = String.raw`helm release koala-system\/koala-network-policies: koala-platform[^\n]*\n`;
    const objects = String.raw`objects \(\d+, from helm template\):\n`;
    const policy = String.raw`\s+apiVersion: networking\.k8s\.io\/v1\n\s+kind: NetworkPolicy`;
    expect(result.stdout).toMatch(new RegExp(`${release}[\\s\\S]*?${objects}${policy}`));
    expect(result.stdout).toMatch(/kind: RoleBinding/);
  });
});
