import type { V1Secret } from '@kubernetes/client-node';
import type { Kube } from '../../kube/client.ts';
import { startPortForward } from '../../kube/port-forward.ts';
import { KoalaError } from '../../util/errors.ts';
import { resolveService } from '../../jobs/forward.ts';
import { SECRETS } from '../names.ts';
import { AIRFLOW } from './declaration.ts';

/**
 * Airflow's REST API (v2, Airflow 3), reached through a port-forward to the api-server Service,
 * so it works with the host port off and on a cluster koala did not create. It signs in as the
 * admin user whose name and password are in the Secret the chart's user Job reads; the token
 * lives in this process only.
 */
export interface AirflowApi {
  get<T>(path: string): Promise<T>;
  send<T>(method: 'POST' | 'PATCH', path: string, body: unknown): Promise<T>;
}

/** One import error as Airflow's API reports it: the file (relative to the DAG folder) and the trace. */
export interface ImportError {
  filename: string;
  timestamp: string;
  stackTrace: string;
}

export interface ParsedDag {
  dagId: string;
  /** The file, relative to the DAG folder. */
  file: string;
  lastParsed: string | undefined;
  paused: boolean;
}

const API_PORT = 8080;

export async function withAirflowApi<T>(
  kube: Kube,
  namespace: string,
  use: (api: AirflowApi) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  const service = { namespace, name: `${AIRFLOW.releases.airflow}-api-server`, port: API_PORT };
  await resolveService(kube, service); // fails now, with its hint, when there is no ready pod
  const forward = await startPortForward(kube, {
    localPort: 0,
    resolve: () => resolveService(kube, service),
    ...(signal ? { signal } : {}),
  });
  try {
    const base = `http://127.0.0.1:${forward.localPort}`;
    const admin = await readAdmin(kube, namespace);
    const call = async <R>(method: string, path: string, body?: unknown, token?: string): Promise<R> => {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(30_000)]) : AbortSignal.timeout(30_000),
      });
      const text = await response.text();
      if (!response.ok)
        throw new KoalaError(
          // The sign-in's answer may echo what was sent: the password.
          `Airflow's API answered ${method} ${path} with ${response.status}` +
            (path === '/auth/token' ? '' : `: ${text.slice(0, 300)}`),
          {
            hint:
              "`koala status` shows whether Airflow is healthy; the api-server's log has the cause " +
              `(kubectl logs -n ${namespace} deploy/${service.name}).`,
          },
        );
      return (text ? JSON.parse(text) : {}) as R;
    };
    const { access_token: token } = await call<{ access_token: string }>('POST', '/auth/token', admin);
    return await use({
      get: (path) => call('GET', path, undefined, token),
      send: (method, path, body) => call(method, path, body, token),
    });
  } finally {
    await forward.close();
  }
}

async function readAdmin(kube: Kube, namespace: string): Promise<{ username: string; password: string }> {
  const secret = await kube.get<V1Secret>({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: SECRETS.airflowAdmin, namespace },
  });
  const field = (key: string): string => Buffer.from(secret?.data?.[key] ?? '', 'base64').toString('utf8');
  if (!field('username') || !field('password'))
    throw new KoalaError(`Secret ${namespace}/${SECRETS.airflowAdmin} has no admin user name and password`, {
      hint: '`koala up` creates it.',
    });
  return { username: field('username'), password: field('password') };
}

/** Airflow's list endpoints serve at most 100 items a page; this reads every page. */
const PAGE_SIZE = 100;

async function allPages<T>(api: AirflowApi, route: string, key: string): Promise<T[]> {
  const items: T[] = [];
  const separator = route.includes('?') ? '&' : '?';
  for (;;) {
    const page = await api.get<Record<string, unknown>>(
      `${route}${separator}limit=${PAGE_SIZE}&offset=${items.length}`,
    );
    const batch = (page[key] as T[] | undefined) ?? [];
    items.push(...batch);
    const total = typeof page.total_entries === 'number' ? page.total_entries : Infinity;
    if (batch.length < PAGE_SIZE || items.length >= total) return items;
  }
}

export async function importErrors(api: AirflowApi): Promise<ImportError[]> {
  const errors = await allPages<{ filename?: string; timestamp?: string; stack_trace?: string }>(
    api,
    '/api/v2/importErrors?order_by=-timestamp',
    'import_errors',
  );
  return errors.map((e) => ({
    filename: e.filename ?? '',
    timestamp: e.timestamp ?? '',
    stackTrace: e.stack_trace ?? '',
  }));
}

export async function parsedDags(api: AirflowApi): Promise<ParsedDag[]> {
  const dags = await allPages<{
    dag_id: string;
    relative_fileloc?: string;
    fileloc?: string;
    last_parsed_time?: string;
    is_paused?: boolean;
  }>(api, '/api/v2/dags?order_by=dag_id', 'dags');
  return dags.map((d) => ({
    dagId: d.dag_id,
    file: d.relative_fileloc ?? d.fileloc ?? '',
    lastParsed: d.last_parsed_time ?? undefined,
    paused: d.is_paused ?? false,
  }));
}

/** The last line of a Python traceback: the exception and its message. */
export function errorLine(stackTrace: string): string {
  const lines = stackTrace
    .trim()
    .split('\n')
    .filter((l) => l.trim());
  return lines.at(-1)?.trim() ?? '';
}
