/**
 * The RBAC design, checked by the API server's own authorizer: every persona (as its group and
 * as its ServiceAccount) and Airflow's task ServiceAccounts are allowed exactly what
 * ACCESS_DESIGN says, verb by resource by namespace (SubjectAccessReview). Then the kubeconfigs
 * `koala users kubeconfig` writes are used for real: a ServiceAccount token, and a client
 * certificate through the CSR API (the test bed's controller-manager has no signing key, so a
 * signer in this test plays its part with the test bed's CA).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import { AIRFLOW_TASK_SERVICE_ACCOUNTS } from '../../src/components/airflow/values.ts';
import { writePersonaKubeconfig } from '../../src/components/rbac/kubeconfig.ts';
import {
  ACCESS_DESIGN,
  PERSONAS,
  persona,
  type AccessCheck,
  type Subject,
} from '../../src/components/rbac/personas.ts';
import { runPlan } from '../../src/engine/runner.ts';
import { canI, serviceAccountSubject } from '../../src/kube/access.ts';
import { Kube } from '../../src/kube/client.ts';
import type { PlatformContext } from '../../src/orchestration/context.ts';
import { componentPlan, helmRecorder, platformConfig, testbedContext, uniquePrefix } from '../support/platform.ts';
import { kubectl, testbed, testbedKube } from '../support/testbed.ts';

const prefix = uniquePrefix('rb');
let ctx: PlatformContext;
const saved = process.env.KOALA_HELM;

beforeAll(async () => {
  process.env.KOALA_HELM = helmRecorder(path.join(testbed().binDir, 'helm4')).wrapper;
  ctx = testbedContext(platformConfig(prefix, undefined));
  const result = await runPlan(componentPlan(ctx).select({ only: ['platform', 'rbac'] }));
  const failed = result.steps.filter((s) => s.status === 'failed');
  expect(failed.map((s) => `${s.id}: ${s.error?.message}`)).toEqual([]);
});

afterAll(() => {
  process.env.KOALA_HELM = saved;
  for (const ns of ['system', 'spark-operator', 'jobs', 'object-store', 'airflow'])
    kubectl(['delete', 'namespace', `${prefix}-${ns}`, '--ignore-not-found', '--wait=false']);
  const cluster = `${prefix}-system`;
  kubectl([
    'delete',
    'clusterrole',
    `${cluster}-platform-namespaces`,
    `${cluster}-sparkapplications-edit`,
    `${cluster}-sparkapplications-view`,
    '--ignore-not-found',
  ]);
  kubectl(['delete', 'clusterrolebinding', `${cluster}-platform-namespaces`, '--ignore-not-found']);
});

function where(check: AccessCheck): { namespace?: string; name?: string } {
  const ns = { jobs: `${prefix}-jobs`, airflow: `${prefix}-airflow`, outside: 'kube-system', cluster: undefined }[
    check.scope
  ];
  const name = check.name === 'jobs' ? `${prefix}-jobs` : check.name;
  return { ...(ns ? { namespace: ns } : {}), ...(name ? { name } : {}) };
}

function identities(): Array<{ label: string; subject: Subject; user: string; groups: string[] }> {
  const system = `${prefix}-system`;
  return [
    ...PERSONAS.map((p) => ({
      label: `group ${p.group}`,
      subject: p.name,
      user: `koala-${p.name}`,
      groups: [p.group, 'system:authenticated'],
    })),
    ...PERSONAS.map((p) => ({
      label: `sa ${p.serviceAccount}`,
      subject: p.name,
      ...serviceAccountSubject(system, p.serviceAccount),
    })),
    ...AIRFLOW_TASK_SERVICE_ACCOUNTS.map((sa) => ({
      label: `sa ${sa}`,
      subject: 'airflow' as Subject,
      ...serviceAccountSubject(`${prefix}-airflow`, sa),
    })),
  ];
}

describe('RBAC: the SubjectAccessReview matrix', () => {
  it('allows each persona and the Airflow ServiceAccounts exactly what the design says', async () => {
    const kube = await testbedKube();
    const rows: string[] = [];
    const mismatches: string[] = [];
    for (const id of identities()) {
      for (const check of ACCESS_DESIGN) {
        const allowed = await canI(kube, {
          user: id.user,
          groups: id.groups,
          verb: check.verb,
          group: check.group,
          resource: check.resource,
          ...(check.subresource ? { subresource: check.subresource } : {}),
          ...where(check),
        });
        const resource = check.subresource ? `${check.resource}/${check.subresource}` : check.resource;
        const what = `${check.verb} ${resource} (${check.scope}${check.name ? ` ${check.name}` : ''})`;
        const word = (allow: boolean | undefined): string => (allow ? 'allow' : 'deny');
        rows.push(`${id.label}\t${what}\t${word(allowed)}`);
        if (allowed !== check.allowed[id.subject])
          mismatches.push(
            `${id.label}: ${what}: API server says ${word(allowed)}, design says ${word(check.allowed[id.subject])}`,
          );
      }
    }
    expect(mismatches).toEqual([]);
    // 3 personas × 2 identities + 2 Airflow accounts, every check.
    expect(rows.length).toBe((PERSONAS.length * 2 + AIRFLOW_TASK_SERVICE_ACCOUNTS.length) * ACCESS_DESIGN.length);
    console.log(
      `[figures rbac] ${rows.length} SubjectAccessReviews, ${rows.filter((r) => r.endsWith('allow')).length} allowed`,
    );
  });

  it('the design covers SparkApplications, pods, pods/log, secrets, roles and namespaces', () => {
    const resources = new Set(
      ACCESS_DESIGN.map((c) => (c.subresource ? `${c.resource}/${c.subresource}` : c.resource)),
    );
    for (const r of ['sparkapplications', 'pods', 'pods/log', 'secrets', 'roles', 'namespaces'])
      expect(resources.has(r)).toBe(true);
  });
});

describe('koala users kubeconfig', () => {
  it('--method token: a working kubeconfig for the view persona, 0600, that may read but not write', async () => {
    const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'koala-users-')), 'view.kubeconfig');
    const result = await writePersonaKubeconfig(ctx, persona('view')!, {
      method: 'token',
      output: out,
      expirationSeconds: 3600,
    });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const view = await Kube.connect({ kubeconfig: out, context: result.context });
    const pods = await view.raw(`/api/v1/namespaces/${prefix}-jobs/pods`);
    const secrets = await view.raw(`/api/v1/namespaces/${prefix}-jobs/secrets`);
    expect([pods.status, secrets.status]).toEqual([200, 403]);
    const apps = await view.raw(`/apis/sparkoperator.k8s.io/v1beta2/namespaces/${prefix}-jobs/sparkapplications`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{"apiVersion":"sparkoperator.k8s.io/v1beta2","kind":"SparkApplication","metadata":{"name":"x"}}',
    });
    expect(apps.status).toBe(403);
  });

  it('--method cert: a client certificate from the CSR API carries the persona as user and group', async () => {
    const stop = startTestSigner();
    try {
      const out = path.join(mkdtempSync(path.join(os.tmpdir(), 'koala-users-')), 'edit.kubeconfig');
      const result = await writePersonaKubeconfig(ctx, persona('edit')!, {
        method: 'cert',
        output: out,
        expirationSeconds: 3600,
        signTimeoutMs: 30_000,
      });
      expect(statSync(out).mode & 0o777).toBe(0o600);
      const edit = await Kube.connect({ kubeconfig: out, context: result.context });
      const review = await edit.raw('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}',
      });
      const user = (JSON.parse(review.body) as { status: { userInfo: { username: string; groups: string[] } } }).status
        .userInfo;
      expect(user.username).toBe('koala-edit');
      expect(user.groups).toContain('koala:editors');
      expect((await edit.raw(`/api/v1/namespaces/${prefix}-jobs/secrets`)).status).toBe(200);
      expect((await edit.raw(`/apis/rbac.authorization.k8s.io/v1/namespaces/${prefix}-jobs/roles`)).status).toBe(403);
      // The request served its purpose and is gone.
      const left = (
        await (
          await testbedKube()
        ).list<V1CertificateSigningRequest>('certificates.k8s.io/v1', 'CertificateSigningRequest', {
          labelSelector: 'koala.dev/persona=edit',
        })
      ).length;
      expect(left).toBe(0);
    } finally {
      stop();
    }
  });

  it('--method cert fails with a hint when nothing signs the request', async () => {
    await expect(
      writePersonaKubeconfig(ctx, persona('admin')!, {
        method: 'cert',
        output: path.join(os.tmpdir(), `koala-never-${prefix}`),
        expirationSeconds: 3600,
        signTimeoutMs: 2_000,
      }),
    ).rejects.toMatchObject({
      message: expect.stringContaining('did not sign'),
      hint: expect.stringContaining('--method token'),
    });
  });
});

/** Plays kube-controller-manager's kube-apiserver-client signer, with the test bed's CA (kwok keeps its key). */
function startTestSigner(): () => void {
  const tb = testbed();
  const name = tb.context.replace(/^kwok-/, '');
  const pki = path.join(path.dirname(tb.kubeconfig), 'kwok', 'clusters', name, 'pki');
  const work = mkdtempSync(path.join(os.tmpdir(), 'koala-signer-'));
  writeFileSync(path.join(work, 'ext.cnf'), 'extendedKeyUsage = clientAuth\nkeyUsage = digitalSignature\n');
  let stopped = false;
  const loop = async (): Promise<void> => {
    const kube = await testbedKube();
    while (!stopped) {
      for (const csr of await kube.list<V1CertificateSigningRequest>(
        'certificates.k8s.io/v1',
        'CertificateSigningRequest',
      )) {
        const approved = csr.status?.conditions?.some((c) => c.type === 'Approved' && c.status === 'True');
        if (!approved || csr.status?.certificate || csr.spec.signerName !== 'kubernetes.io/kube-apiserver-client')
          continue;
        const request = path.join(work, 'req.pem');
        writeFileSync(request, Buffer.from(csr.spec.request, 'base64'));
        // openssl checks the request's signature: koala's hand-built PKCS#10 must be valid.
        execFileSync(
          'openssl',
          [
            'x509',
            '-req',
            '-in',
            request,
            '-CA',
            path.join(pki, 'ca.crt'),
            '-CAkey',
            path.join(pki, 'ca.key'),
            '-CAcreateserial',
            '-days',
            '1',
            '-extfile',
            path.join(work, 'ext.cnf'),
            '-out',
            path.join(work, 'cert.pem'),
          ],
          { stdio: 'ignore' },
        );
        const certificate = readFileSync(path.join(work, 'cert.pem')).toString('base64');
        await kube.raw(`/apis/certificates.k8s.io/v1/certificatesigningrequests/${csr.metadata!.name}/status`, {
          method: 'PUT',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ ...csr, status: { ...csr.status, certificate } }),
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };
  void loop();
  return () => {
    stopped = true;
  };
}
