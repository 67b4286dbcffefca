import type { Kube } from './client.ts';
import { KubeApiError } from './client.ts';

/** "May this user do that?", asked of the API server's own authorizer (SubjectAccessReview). */

export interface AccessQuery {
  user: string;
  groups?: string[];
  verb: string;
  group?: string;
  resource: string;
  subresource?: string;
  namespace?: string;
  name?: string;
}

export async function canI(kube: Kube, q: AccessQuery, signal?: AbortSignal): Promise<boolean> {
  const body = {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: q.user,
      groups: q.groups ?? [],
      resourceAttributes: {
        verb: q.verb,
        group: q.group ?? '',
        resource: q.resource,
        ...(q.subresource ? { subresource: q.subresource } : {}),
        ...(q.namespace ? { namespace: q.namespace } : {}),
        ...(q.name ? { name: q.name } : {}),
      },
    },
  };
  const { status, body: text } = await kube.raw('/apis/authorization.k8s.io/v1/subjectaccessreviews', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    ...(signal ? { signal } : {}),
  });
  if (status < 200 || status >= 300) throw new KubeApiError(status, 'create SubjectAccessReview', text);
  return Boolean((JSON.parse(text) as { status?: { allowed?: boolean } }).status?.allowed);
}

/** The identity the API server gives a ServiceAccount's token. */
export function serviceAccountSubject(namespace: string, name: string): { user: string; groups: string[] } {
  return {
    user: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}
