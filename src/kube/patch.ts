import { KoalaError } from '../util/errors.ts';
import type { Kube } from './client.ts';

/**
 * A JSON merge patch: changes only the fields given (null removes one) and leaves the rest,
 * including what server-side apply recorded for koala, as it is.
 */
export async function mergePatch(kube: Kube, path: string, body: unknown, what: string): Promise<void> {
  const { status, body: text } = await kube.raw(`${path}?fieldManager=koala`, {
    method: 'PATCH',
    body: JSON.stringify(body),
    headers: { 'Content-Type': 'application/merge-patch+json' },
  });
  if (status < 200 || status >= 300) throw new KoalaError(`${what} failed (HTTP ${status}): ${text.slice(0, 300)}`);
}
