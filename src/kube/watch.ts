import type { KubernetesObject } from '@kubernetes/client-node';
import type { Kube } from './client.ts';

export type WatchEvent<T> = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T } | { type: 'SYNCED'; items: T[] };

export interface WatchOptions<T> {
  /** Collection path, e.g. "/api/v1/namespaces/x/pods". */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  signal: AbortSignal;
  /**
   * Called for every change, in order. After each (re-)list comes a SYNCED event with the full
   * set, then ADDED/MODIFIED/DELETED as they happen; a re-list reports what changed meanwhile.
   */
  onEvent(event: WatchEvent<T>): void;
}

/**
 * Follow a collection until `signal` aborts: list, then watch from the list's resourceVersion,
 * resuming from the last seen version when the connection drops and listing again only when the
 * server says that version is gone (410). This is what makes reports immediate: koala hears of a
 * change when the API server commits it, not at the next tick of a polling loop.
 */
export async function watchCollection<T extends KubernetesObject>(kube: Kube, options: WatchOptions<T>): Promise<void> {
  const { signal } = options;
  const query = new URLSearchParams();
  if (options.labelSelector) query.set('labelSelector', options.labelSelector);
  if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
  let known = new Map<string, T>();
  let resourceVersion: string | undefined;
  let failures = 0;

  while (!signal.aborted) {
    try {
      if (resourceVersion === undefined) {
        const list = (await kube.request(`${options.path}${query.size ? `?${query}` : ''}`, {
          signal,
          timeoutMs: 30_000,
        })) as { items: T[]; metadata: { resourceVersion: string } };
        const fresh = new Map(list.items.map((o) => [keyOf(o), o]));
        // After a re-list, report what happened while we were not watching.
        for (const [k, o] of known) if (!fresh.has(k)) options.onEvent({ type: 'DELETED', object: o });
        known = fresh;
        resourceVersion = list.metadata.resourceVersion;
        options.onEvent({ type: 'SYNCED', items: [...fresh.values()] });
      }
      // The consumer may have stopped us from onEvent (a wait that is satisfied).
      if (signal.aborted) break;
      const outcome = await watchOnce<T>(kube, options, resourceVersion, (type, object) => {
        resourceVersion = object.metadata?.resourceVersion ?? resourceVersion;
        if (type === 'DELETED') known.delete(keyOf(object));
        else known.set(keyOf(object), object);
        options.onEvent({ type, object });
      });
      if (outcome === 'gone') resourceVersion = undefined;
      failures = 0;
    } catch (error) {
      if (signal.aborted) break;
      failures += 1;
      // The API server restarting, a network blip: back off a little and carry on.
      if (failures > 30) throw error;
      await sleep(Math.min(200 * failures, 2_000), signal);
      resourceVersion = undefined;
    }
  }
}

function watchOnce<T extends KubernetesObject>(
  kube: Kube,
  options: WatchOptions<T>,
  resourceVersion: string,
  onChange: (type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T) => void,
): Promise<'closed' | 'gone'> {
  const { signal } = options;
  return new Promise((resolve, reject) => {
    let controller: AbortController | undefined;
    let settled = false;
    const settle = (value: 'closed' | 'gone' | Error): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      controller?.abort();
      if (value instanceof Error) reject(value);
      else resolve(value);
    };
    const onAbort = (): void => settle('closed');
    // An 'abort' listener added to an already aborted signal never fires.
    if (signal.aborted) return resolve('closed');
    signal.addEventListener('abort', onAbort, { once: true });
    const params: Record<string, string | boolean> = { resourceVersion, allowWatchBookmarks: true };
    if (options.labelSelector) params.labelSelector = options.labelSelector;
    if (options.fieldSelector) params.fieldSelector = options.fieldSelector;
    new kube.lib.Watch(kube.kc)
      .watch(
        options.path,
        params,
        (phase: string, object: T) => {
          if (settled) return;
          if (phase === 'ERROR') return settle('gone'); // 410 Gone: the version expired
          if (phase === 'BOOKMARK') return;
          onChange(phase as 'ADDED' | 'MODIFIED' | 'DELETED', object);
        },
        (error: unknown) =>
          error && !(error instanceof Error && /abort/i.test(error.name + error.message))
            ? settle(error instanceof Error ? error : new Error(String(error)))
            : settle('closed'),
      )
      .then(
        (c) => {
          controller = c;
          if (settled) c.abort();
        },
        (error: unknown) => settle(error instanceof Error ? error : new Error(String(error))),
      );
  });
}

export function keyOf(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
