import http from 'node:http';
import https from 'node:https';
import { KubeApiError, toKubeError, type Kube } from './client.ts';

export interface PodLogOptions {
  namespace: string;
  pod: string;
  container?: string;
  follow?: boolean;
  tailLines?: number;
  previous?: boolean;
  /** RFC 3339; only lines after it (used to resume a stream without repeating lines). */
  sinceTime?: string;
  timestamps?: boolean;
  signal?: AbortSignal;
}

/**
 * Stream one container's log line by line. Resolves when the stream ends: the container
 * stopped (follow), everything was read (no follow), or `signal` aborted. A pod that has no
 * log yet (still pending) is a KubeApiError with status 400.
 */
export async function streamPodLog(kube: Kube, options: PodLogOptions, onLine: (line: string) => void): Promise<void> {
  const query = new URLSearchParams();
  if (options.container) query.set('container', options.container);
  if (options.follow) query.set('follow', 'true');
  if (options.tailLines !== undefined) query.set('tailLines', String(options.tailLines));
  if (options.previous) query.set('previous', 'true');
  if (options.sinceTime) query.set('sinceTime', options.sinceTime);
  if (options.timestamps) query.set('timestamps', 'true');
  const path = `/api/v1/namespaces/${options.namespace}/pods/${options.pod}/log${query.size ? `?${query}` : ''}`;
  const cluster = kube.kc.getCurrentCluster();
  if (!cluster) throw new Error(`context "${kube.target.context}" has no cluster`);
  const url = new URL(path, cluster.server);
  const requestOptions: https.RequestOptions = { method: 'GET', headers: { Accept: '*/*' } };
  await kube.kc.applyToHTTPSOptions(requestOptions);
  const transport = url.protocol === 'http:' ? http : https;

  await new Promise<void>((resolve, reject) => {
    const req = transport.request(
      url,
      { ...requestOptions, ...(options.signal ? { signal: options.signal } : {}) },
      (res) => {
        if ((res.statusCode ?? 0) >= 300) {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            reject(
              new KubeApiError(
                res.statusCode ?? 0,
                `logs of pod ${options.namespace}/${options.pod}`,
                Buffer.concat(chunks).toString('utf8'),
              ),
            ),
          );
          res.on('error', reject);
          return;
        }
        let pending = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          pending += chunk;
          let newline = pending.indexOf('\n');
          while (newline >= 0) {
            onLine(pending.slice(0, newline).replace(/\r$/, ''));
            pending = pending.slice(newline + 1);
            newline = pending.indexOf('\n');
          }
        });
        const finish = (): void => {
          if (pending) onLine(pending);
          pending = '';
          resolve();
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', (error) => (options.signal?.aborted ? finish() : reject(error)));
      },
    );
    req.on('error', (error) =>
      options.signal?.aborted
        ? resolve()
        : reject(toKubeError(error, `logs of pod ${options.namespace}/${options.pod}`)),
    );
    req.end();
  });
}
