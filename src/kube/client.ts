import http from 'node:http';
import https from 'node:https';
import type { KubeConfig, KubernetesObject, KubernetesObjectApi } from '@kubernetes/client-node';

// eslint-disable-next-line @typescript-eslint/consistent-type-imports
type ClientNode = typeof import('@kubernetes/client-node');
import { KoalaError } from '../util/errors.ts';

/** Which cluster to talk to: every Kubernetes call goes to exactly the kubeconfig and context given. */
export interface KubeTarget {
  /** A kubeconfig file; defaults to $KUBECONFIG or ~/.kube/config, as kubectl does. */
  kubeconfig?: string;
  context: string;
}

export const FIELD_MANAGER = 'koala';

/** A Kubernetes object as koala renders it. */
export interface Manifest extends KubernetesObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/**
 * A connection to one cluster through @kubernetes/client-node. The library is loaded on first
 * use, so commands that never talk to Kubernetes (and `--help`) do not pay for it.
 */
export class Kube {
  readonly kc: KubeConfig;
  readonly objects: KubernetesObjectApi;
  readonly target: KubeTarget;
  readonly lib: ClientNode;
  /** Kept-alive TLS connections: each request would otherwise pay a new handshake. */
  private readonly agents = { https: new https.Agent({ keepAlive: true }), http: new http.Agent({ keepAlive: true }) };

  private constructor(lib: ClientNode, kc: KubeConfig, target: KubeTarget) {
    this.lib = lib;
    this.kc = kc;
    this.target = target;
    this.objects = lib.KubernetesObjectApi.makeApiClient(kc);
  }

  static async connect(target: KubeTarget): Promise<Kube> {
    const { lib, kc } = await loadKubeConfig(target);
    if (!kc.getContextObject(target.context)) {
      throw new KoalaError(`The kubeconfig has no context "${target.context}"`, {
        hint:
          'Run `koala up` to create the cluster; for a cluster koala did not create, ' +
          '`kubectl config get-contexts` lists the contexts there are. ' +
          `KUBECONFIG: ${target.kubeconfig ?? process.env.KUBECONFIG ?? '~/.kube/config'}.`,
      });
    }
    kc.setCurrentContext(target.context);
    return new Kube(lib, kc, target);
  }

  /** The API server's /version, or an error when it does not answer within `timeoutMs`. */
  async version(timeoutMs = 5_000): Promise<{ gitVersion: string }> {
    return (await this.request('/version', { timeoutMs })) as { gitVersion: string };
  }

  /** A raw GET against the API server, for paths the typed clients do not cover. */
  async request(path: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<unknown> {
    const { status, body } = await this.raw(path, options);
    if (status < 200 || status >= 300) throw new KubeApiError(status, `GET ${path}`, body);
    return JSON.parse(body);
  }

  /** One HTTP request with the cluster's TLS settings and credentials applied. */
  async raw(
    path: string,
    options: {
      timeoutMs?: number;
      signal?: AbortSignal;
      method?: string;
      body?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<{ status: number; body: string }> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new KoalaError(`context "${this.target.context}" has no cluster`);
    const url = new URL(path, cluster.server);
    const requestOptions: https.RequestOptions = {
      method: options.method ?? 'GET',
      headers: { Accept: 'application/json', ...options.headers },
    };
    // Sets the CA, client certificate and key, or bearer token from the kubeconfig.
    await this.kc.applyToHTTPSOptions(requestOptions);
    const signals = [options.signal, AbortSignal.timeout(options.timeoutMs ?? 30_000)].filter((s): s is AbortSignal =>
      Boolean(s),
    );
    const signal = AbortSignal.any(signals);
    const transport = url.protocol === 'http:' ? http : https;
    return new Promise((resolve, reject) => {
      const agent = url.protocol === 'http:' ? this.agents.http : this.agents.https;
      const req = transport.request(url, { ...requestOptions, agent, signal }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', (error) => reject(toKubeError(error, `${requestOptions.method} ${path}`)));
      req.end(options.body);
    });
  }

  /** Server-side apply: koala owns the fields it sets and leaves the rest alone. */
  async apply<T extends Manifest>(manifest: T, options: { dryRun?: boolean } = {}): Promise<T> {
    try {
      return (await this.objects.patch(
        manifest,
        undefined,
        options.dryRun ? 'All' : undefined,
        FIELD_MANAGER,
        true,
        this.lib.PatchStrategy.ServerSideApply,
      )) as T;
    } catch (error) {
      throw toKubeError(error, `apply ${describe(manifest)}`);
    }
  }

  async get<T extends KubernetesObject>(header: {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
  }): Promise<T | undefined> {
    try {
      return (await this.objects.read(header as never)) as T;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw toKubeError(error, `read ${describe(header)}`);
    }
  }

  async list<T extends KubernetesObject>(
    apiVersion: string,
    kind: string,
    options: { namespace?: string; labelSelector?: string; fieldSelector?: string } = {},
  ): Promise<T[]> {
    try {
      const list = await this.objects.list<T>(
        apiVersion,
        kind,
        options.namespace,
        undefined,
        undefined,
        undefined,
        options.fieldSelector,
        options.labelSelector,
      );
      return list.items;
    } catch (error) {
      if (statusOf(error) === 404) return [];
      throw toKubeError(error, `list ${kind}`);
    }
  }

  /** Delete; an object that is already gone is not an error. */
  async delete(header: {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
  }): Promise<boolean> {
    try {
      await this.objects.delete(header as never, undefined, undefined, undefined, undefined, 'Background');
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw toKubeError(error, `delete ${describe(header)}`);
    }
  }

  /** Does the live object already hold every field of the desired one? Then applying would change nothing. */
  async isApplied(manifest: Manifest): Promise<boolean> {
    const live = await this.get(manifest);
    return live !== undefined && containsSubset(live, manifest);
  }
}

/** The kubeconfig a target names, or $KUBECONFIG (several files merged, as kubectl does) or ~/.kube/config. */
async function loadKubeConfig(target: KubeTarget): Promise<{ lib: ClientNode; kc: KubeConfig }> {
  const lib = await import('@kubernetes/client-node');
  const kc = new lib.KubeConfig();
  if (target.kubeconfig) kc.loadFromFile(target.kubeconfig);
  else kc.loadFromDefault();
  return { lib, kc };
}

/** The API server a kubeconfig context points at, read without connecting; undefined when there is none. */
export async function contextServer(target: KubeTarget): Promise<string | undefined> {
  try {
    const { kc } = await loadKubeConfig(target);
    const cluster = kc.getContextObject(target.context)?.cluster;
    return cluster ? kc.getCluster(cluster)?.server : undefined;
  } catch {
    return undefined; // no kubeconfig yet: kind writes it with the first cluster
  }
}

export function describe(o: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

/** True when every field set in `desired` has the same value in `live` (lists compared whole). */
export function containsSubset(live: unknown, desired: unknown): boolean {
  if (desired === null || typeof desired !== 'object') {
    // The API server normalises some scalars (e.g. quantities); compare as strings.
    return live === desired || (live !== undefined && live !== null && String(live) === String(desired));
  }
  if (Array.isArray(desired)) {
    return Array.isArray(live) && live.length === desired.length && desired.every((d, i) => containsSubset(live[i], d));
  }
  if (live === null || typeof live !== 'object' || Array.isArray(live)) return false;
  return Object.entries(desired as Record<string, unknown>).every(
    ([k, v]) => v === undefined || containsSubset((live as Record<string, unknown>)[k], v),
  );
}

export class KubeApiError extends KoalaError {
  readonly status: number;
  readonly body: string;

  constructor(status: number, what: string, body: string) {
    const reason = reasonOf(body);
    super(`Kubernetes API: ${what} failed (${status})${reason ? `: ${reason}` : ''}`, {
      hint:
        status === 401 || status === 403
          ? 'Your kubeconfig user is not allowed to do this: check the context with `kubectl config current-context`.'
          : status === 422
            ? 'The object was rejected by the API server; the message above names the field.'
            : 'Check the cluster with `koala status`.',
    });
    this.name = 'KubeApiError';
    this.status = status;
    this.body = body;
  }
}

function reasonOf(body: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { message?: string };
    return parsed.message;
  } catch {
    return body.trim().slice(0, 300) || undefined;
  }
}

export function statusOf(error: unknown): number | undefined {
  if (error instanceof KubeApiError) return error.status;
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

export function toKubeError(error: unknown, what: string): Error {
  const status = statusOf(error);
  if (status !== undefined) {
    const body = (error as { body?: unknown }).body;
    return new KubeApiError(status, what, typeof body === 'string' ? body : JSON.stringify(body ?? ''));
  }
  const cause = error instanceof Error ? error : new Error(String(error));
  if (
    /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|fetch failed|socket hang up/i.test(
      `${cause.message} ${String((cause as { cause?: unknown }).cause ?? '')}`,
    )
  ) {
    return new KoalaError(`Kubernetes API: ${what}: the API server does not answer`, {
      hint: 'Is the cluster running? `koala status` tells; `koala up` starts or repairs it.',
      cause,
    });
  }
  return cause;
}
