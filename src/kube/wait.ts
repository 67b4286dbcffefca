import type { KubernetesObject } from '@kubernetes/client-node';
import { formatDuration } from '../engine/runner.ts';
import { KoalaError } from '../util/errors.ts';
import type { Kube } from './client.ts';

export interface WaitOptions<T extends KubernetesObject> {
  /** Collection path, e.g. "/api/v1/nodes" or "/apis/apps/v1/namespaces/x/deployments". */
  path: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** What is being waited for, in words: "3 nodes to be Ready". */
  what: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Decide from the current set of objects; `progress` is shown while waiting and in a timeout. */
  until(items: T[]): { done: boolean; progress?: string };
  onProgress?(line: string): void;
}

/**
 * Wait until a condition over a collection holds, driven by a watch rather than a sleep loop:
 * list once, then apply watch events, re-evaluating after each. The watch is re-established
 * (with a fresh list) when the server closes it or the resource version expires.
 */
export async function waitFor<T extends KubernetesObject>(kube: Kube, options: WaitOptions<T>): Promise<T[]> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  let lastProgress = '';
  const report = (progress: string | undefined): void => {
    if (progress && progress !== lastProgress) {
      lastProgress = progress;
      options.onProgress?.(progress);
    }
  };

  const query = new URLSearchParams();
  if (options.labelSelector) query.set('labelSelector', options.labelSelector);
  if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);

  try {
    for (;;) {
      signal.throwIfAborted();
      const list = (await kube.request(`${options.path}${query.size ? `?${query}` : ''}`, { signal, timeoutMs: 30_000 })) as {
        items: T[];
        metadata: { resourceVersion: string };
      };
      const objects = new Map<string, T>(list.items.map((o) => [key(o), o]));
      const first = options.until([...objects.values()]);
      report(first.progress);
      if (first.done) return [...objects.values()];

      const outcome = await new Promise<{ done: true; items: T[] } | { done: false }>((resolve, reject) => {
        let controller: AbortController | undefined;
        let settled = false;
        const settle = (value: { done: true; items: T[] } | { done: false } | Error): void => {
          if (settled) return;
          settled = true;
          signal.removeEventListener('abort', onAbort);
          controller?.abort();
          if (value instanceof Error) reject(value);
          else resolve(value);
        };
        const onAbort = (): void => settle(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
        const params: Record<string, string | boolean> = { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: true };
        if (options.labelSelector) params.labelSelector = options.labelSelector;
        if (options.fieldSelector) params.fieldSelector = options.fieldSelector;
        new kube.lib.Watch(kube.kc)
          .watch(
            options.path,
            params,
            (phase: string, object: T) => {
              if (phase === 'ERROR') return settle({ done: false }); // e.g. 410 Gone: list again
              if (phase === 'BOOKMARK') return;
              if (phase === 'DELETED') objects.delete(key(object));
              else objects.set(key(object), object);
              const state = options.until([...objects.values()]);
              report(state.progress);
              if (state.done) settle({ done: true, items: [...objects.values()] });
            },
            () => settle({ done: false }),
          )
          .then(
            (c) => {
              controller = c;
              if (settled) c.abort();
            },
            (error: unknown) => settle(error instanceof Error ? error : new Error(String(error))),
          );
      });
      if (outcome.done) return outcome.items;
    }
  } catch (error) {
    if (deadline.aborted && !options.signal?.aborted) {
      throw new KoalaError(`Timed out after ${formatDuration(options.timeoutMs)} waiting for ${options.what}${lastProgress ? ` (${lastProgress})` : ''}`, {
        hint: 'Run `koala status` to see what is not ready, then `koala up` again to keep waiting.',
      });
    }
    throw error;
  }
}

function key(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}
