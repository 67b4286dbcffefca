import type { KubernetesObject } from '@kubernetes/client-node';
import { formatDuration } from '../engine/runner.ts';
import { KoalaError } from '../util/errors.ts';
import type { Kube } from './client.ts';
import { keyOf, watchCollection } from './watch.ts';

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
 * Wait until a condition over a collection holds, driven by a watch (watchCollection) rather
 * than a sleep loop: the condition is re-evaluated on every change the API server reports, and
 * the wait ends at its deadline with a message that says what it waited for and how far it got.
 */
export async function waitFor<T extends KubernetesObject>(kube: Kube, options: WaitOptions<T>): Promise<T[]> {
  const deadline = AbortSignal.timeout(options.timeoutMs);
  const stop = new AbortController();
  const signal = AbortSignal.any([stop.signal, deadline, ...(options.signal ? [options.signal] : [])]);
  const objects = new Map<string, T>();
  let lastProgress = '';
  let result: T[] | undefined;

  await watchCollection<T>(kube, {
    path: options.path,
    ...(options.labelSelector ? { labelSelector: options.labelSelector } : {}),
    ...(options.fieldSelector ? { fieldSelector: options.fieldSelector } : {}),
    signal,
    onEvent(event) {
      if (event.type === 'SYNCED') {
        objects.clear();
        for (const o of event.items) objects.set(keyOf(o), o);
      } else if (event.type === 'DELETED') objects.delete(keyOf(event.object));
      else objects.set(keyOf(event.object), event.object);
      const state = options.until([...objects.values()]);
      if (state.progress && state.progress !== lastProgress) {
        lastProgress = state.progress;
        options.onProgress?.(state.progress);
      }
      if (state.done && !result) {
        result = [...objects.values()];
        stop.abort();
      }
    },
  });
  if (result) return result;
  if (options.signal?.aborted)
    throw options.signal.reason instanceof Error ? options.signal.reason : new KoalaError('Interrupted');
  throw new KoalaError(
    `Timed out after ${formatDuration(options.timeoutMs)} waiting for ${options.what}` +
      (lastProgress ? ` (${lastProgress})` : ''),
    {
      hint: 'Run `koala status` to see what is not ready, then `koala up` again to keep waiting.',
    },
  );
}

/**
 * Until a deleted object is gone (its finalizers done), so one of the same name can be created:
 * a Job's template is immutable, so a changed Job is deleted and created again.
 */
export async function waitGone(
  kube: Kube,
  header: { apiVersion: string; kind: string; metadata: { name: string; namespace?: string } },
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const deadline = Date.now() + timeoutMs;
  while (await kube.get(header)) {
    options.signal?.throwIfAborted();
    if (Date.now() > deadline)
      throw new KoalaError(
        `${header.kind} ${header.metadata.namespace ?? ''}/${header.metadata.name} was not deleted within ` +
          formatDuration(timeoutMs),
      );
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
