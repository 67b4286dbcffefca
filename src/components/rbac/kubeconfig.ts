import { randomBytes, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { V1CertificateSigningRequest } from '@kubernetes/client-node';
import type { Kube } from '../../kube/client.ts';
import { waitFor } from '../../kube/wait.ts';
import type { PlatformContext } from '../../orchestration/context.ts';
import { writePrivateFile } from '../../orchestration/state.ts';
import { registerSecret } from '../../tools/redact.ts';
import { KoalaError } from '../../util/errors.ts';
import { createCsr } from './csr.ts';
import type { Persona } from './personas.ts';

/**
 * `koala users kubeconfig <admin|edit|view>`: a kubeconfig for a persona, written 0600.
 * - cert (default): a client certificate with CN=koala-<persona>, O=<the persona's group>,
 *   requested through the CSR API (signer kubernetes.io/kube-apiserver-client), approved by
 *   koala with the caller's rights, and signed by the cluster (kube-controller-manager).
 * - token: a TokenRequest for the persona's ServiceAccount, for clusters that sign no CSRs.
 */

export type CredentialMethod = 'cert' | 'token';

export interface PersonaKubeconfigOptions {
  method: CredentialMethod;
  /** Where to write it; defaults to <cluster home>/users/<persona>.kubeconfig. */
  output?: string;
  /** How long the certificate or token is valid. */
  expirationSeconds: number;
  signal?: AbortSignal;
  /** How long to wait for the cluster to sign the CSR. */
  signTimeoutMs?: number;
  report?: (line: string) => void;
}

export interface PersonaKubeconfig {
  file: string;
  user: string;
  method: CredentialMethod;
  context: string;
  namespace: string;
  expiresAt?: string;
}

export function defaultKubeconfigPath(ctx: PlatformContext, persona: Persona): string {
  return path.join(ctx.home, 'users', `${persona.name}.kubeconfig`);
}

export async function writePersonaKubeconfig(
  ctx: PlatformContext,
  persona: Persona,
  options: PersonaKubeconfigOptions,
): Promise<PersonaKubeconfig> {
  const kube = await ctx.kube();
  const user = `koala-${persona.name}`;
  const namespace = ctx.config.spark.jobNamespaces[0]!;
  const credentials =
    options.method === 'token'
      ? await tokenCredentials(ctx, kube, persona, options)
      : await certificateCredentials(kube, persona, user, options);
  const cluster = kube.kc.getCurrentCluster();
  if (!cluster) throw new KoalaError(`The kubeconfig context ${ctx.kubeTarget.context} has no cluster`);
  const caData = cluster.caData ?? (cluster.caFile ? (await readFile(cluster.caFile)).toString('base64') : undefined);
  const context = `${user}@${ctx.spec.name}`;
  const { dump } = await import('js-yaml');
  const doc = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: ctx.spec.name,
        cluster: {
          server: cluster.server,
          ...(caData ? { 'certificate-authority-data': caData } : {}),
          ...(cluster.skipTLSVerify ? { 'insecure-skip-tls-verify': true } : {}),
        },
      },
    ],
    users: [{ name: user, user: credentials.user }],
    contexts: [{ name: context, context: { cluster: ctx.spec.name, user, namespace } }],
    'current-context': context,
  };
  const file = options.output ?? defaultKubeconfigPath(ctx, persona);
  await writePrivateFile(file, dump(doc, { lineWidth: -1 }));
  return {
    file,
    user,
    method: options.method,
    context,
    namespace,
    ...(credentials.expiresAt ? { expiresAt: credentials.expiresAt } : {}),
  };
}

async function certificateCredentials(kube: Kube, persona: Persona, user: string, o: PersonaKubeconfigOptions) {
  const { csrPem, keyPem } = createCsr({ commonName: user, organizations: [persona.group] });
  registerSecret(keyPem);
  const name = `${user}-${randomBytes(4).toString('hex')}`;
  const header = { apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name } };
  await kube.apply({
    ...header,
    metadata: { name, labels: { 'app.kubernetes.io/part-of': 'koala', 'koala.dev/persona': persona.name } },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      signerName: 'kubernetes.io/kube-apiserver-client',
      usages: ['client auth'],
      expirationSeconds: o.expirationSeconds,
    },
  });
  try {
    o.report?.(`approving certificate request ${name}`);
    await approve(kube, name);
    const timeoutMs = o.signTimeoutMs ?? 60_000;
    let signed: V1CertificateSigningRequest | undefined;
    try {
      [signed] = await waitFor<V1CertificateSigningRequest>(kube, {
        path: '/apis/certificates.k8s.io/v1/certificatesigningrequests',
        fieldSelector: `metadata.name=${name}`,
        what: `the cluster to sign ${name}`,
        timeoutMs,
        ...(o.signal ? { signal: o.signal } : {}),
        until: (items) => ({
          done:
            Boolean(items[0]?.status?.certificate) ||
            Boolean(items[0]?.status?.conditions?.some((c) => c.type === 'Failed' || c.type === 'Denied')),
          progress: 'waiting for the signer',
        }),
      });
    } catch (error) {
      if (o.signal?.aborted) throw error;
      throw new KoalaError(
        `The cluster did not sign the certificate request ${name} within ${Math.round(timeoutMs / 1000)}s`,
        {
          hint:
            'Its kube-controller-manager signs no client certificates (no --cluster-signing-cert-file); ' +
            'use `--method token` for a ServiceAccount token instead.',
          cause: error,
        },
      );
    }
    const certificate = signed?.status?.certificate;
    if (!certificate)
      throw new KoalaError(`The certificate request ${name} was denied or failed`, {
        hint: 'Check `kubectl describe csr` and the signer; or use `--method token`.',
      });
    const expiresAt = certificateExpiry(Buffer.from(certificate, 'base64').toString());
    return {
      user: { 'client-certificate-data': certificate, 'client-key-data': Buffer.from(keyPem).toString('base64') },
      ...(expiresAt ? { expiresAt } : {}),
    };
  } finally {
    // The certificate is in the kubeconfig now; the request has served its purpose.
    await kube.delete(header).catch(() => undefined);
  }
}

async function approve(kube: Kube, name: string): Promise<void> {
  const base = `/apis/certificates.k8s.io/v1/certificatesigningrequests/${name}`;
  const csr = (await kube.request(base)) as V1CertificateSigningRequest;
  const conditions = [
    ...(csr.status?.conditions ?? []),
    {
      type: 'Approved',
      status: 'True',
      reason: 'KoalaPersona',
      message: 'Approved by koala users kubeconfig',
      lastUpdateTime: new Date().toISOString(),
    },
  ];
  const { status, body } = await kube.raw(`${base}/approval`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ ...csr, status: { ...csr.status, conditions } }),
  });
  if (status < 200 || status >= 300) {
    throw new KoalaError(`Approving the certificate request ${name} failed (${status}): ${body.slice(0, 200)}`, {
      hint: 'Your kubeconfig user may not approve CSRs for kubernetes.io/kube-apiserver-client; use `--method token`.',
    });
  }
}

async function tokenCredentials(ctx: PlatformContext, kube: Kube, persona: Persona, o: PersonaKubeconfigOptions) {
  const ns = ctx.config.namespaces.system;
  const { status, body } = await kube.raw(`/api/v1/namespaces/${ns}/serviceaccounts/${persona.serviceAccount}/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: o.expirationSeconds },
    }),
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (status === 404)
    throw new KoalaError(`The ServiceAccount ${ns}/${persona.serviceAccount} does not exist`, {
      hint: 'Run `koala up` (the rbac step creates it).',
    });
  if (status < 200 || status >= 300)
    throw new KoalaError(`Requesting a token for ${persona.serviceAccount} failed (${status}): ${body.slice(0, 200)}`);
  const parsed = JSON.parse(body) as { status?: { token?: string; expirationTimestamp?: string } };
  const token = parsed.status?.token;
  if (!token) throw new KoalaError(`The API server returned no token for ${persona.serviceAccount}`);
  registerSecret(token);
  return {
    user: { token },
    ...(parsed.status?.expirationTimestamp ? { expiresAt: parsed.status.expirationTimestamp } : {}),
  };
}

function certificateExpiry(pemText: string): string | undefined {
  try {
    return new Date(new X509Certificate(pemText).validTo).toISOString();
  } catch {
    return undefined;
  }
}
