import { readFile } from 'node:fs/promises';
import { isPlainObject, validateValue, type FieldSpec } from '../config/spec.ts';
import { parseLocatedYaml } from '../config/yaml-file.ts';
import type { Manifest } from '../kube/client.ts';
import { ConfigError, EXIT, KoalaError, type ConfigProblem } from '../util/errors.ts';
import { STORAGE_CONFIGMAP, STORAGE_SECRET } from '../tasks/render.ts';
import { BATCH_JOB_SPEC, BATCH_STRATEGY_FIELDS, batchFromSpec, type BatchPipeline } from './batch.ts';

/**
 * A stream pipeline: long-running micro-services, each a Deployment (and a Service when its
 * containers name ports), started and stopped together by scaling. The file is the
 * pipeline-operator's `Pipeline` resource as its users wrote it (`spec.streamJob.microServices`,
 * each with a name, replicas and a pod spec); koala runs it with Deployments, not an operator.
 */

export const PIPELINE_LABEL = 'koala.dev/pipeline';
export const COMPONENT_LABEL = 'koala.dev/component';
/** The replicas each micro-service runs with when started: what the file declares. */
export const REPLICAS_ANNOTATION = 'koala.dev/replicas';
/** Set while `koala pipelines stop` holds the pipeline at 0 replicas; a deploy keeps it stopped. */
export const STOPPED_ANNOTATION = 'koala.dev/stopped';

export interface MicroService {
  name: string;
  replicas: number;
  podSpec: { containers: Array<{ name: string; image: string; ports?: Array<Record<string, unknown>> }> };
}

export interface StreamPipeline {
  kind: 'stream';
  file: string;
  name: string;
  services: MicroService[];
  /** strategy.expire, when given: after it the pipeline does not start. */
  expire?: Date;
  /** spec.storage: the object store's Secret and ConfigMap, given to every container. */
  storage: boolean;
}

// 30 each: `<pipeline>-<micro-service>` names a Service, which may have 63 characters.
const dnsLabel = /^[a-z]([a-z0-9-]{0,28}[a-z0-9])?$/;

const PIPELINE_SPEC: FieldSpec = {
  type: 'object',
  fields: {
    apiVersion: { type: 'string' },
    kind: { type: 'enum', values: ['Pipeline'] },
    metadata: {
      type: 'object',
      fields: {
        name: {
          type: 'string',
          pattern: dnsLabel,
          accepted: 'lowercase letters, digits and "-", at most 30 characters',
        },
        finalizers: { type: 'list', of: { type: 'string' } },
        namespace: { type: 'string' },
        labels: { type: 'map', of: { type: 'string' } },
      },
    },
    spec: {
      type: 'object',
      fields: {
        streamJob: {
          type: 'object',
          fields: {
            microServices: {
              type: 'list',
              minItems: 1,
              of: {
                type: 'object',
                fields: {
                  name: {
                    type: 'string',
                    pattern: dnsLabel,
                    accepted: 'lowercase letters, digits and "-", at most 30 characters',
                  },
                  replicas: { type: 'int', min: 0, max: 100 },
                  spec: { type: 'any' },
                },
              },
            },
          },
        },
        batchJob: BATCH_JOB_SPEC,
        storage: { type: 'bool' },
        strategy: {
          type: 'object',
          fields: {
            cronExpression: { type: 'string' },
            expire: {
              type: 'string',
              pattern: /^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2})?)?$/,
              accepted: 'a date and time such as "2027-07-15 19:55:00"',
            },
            ...BATCH_STRATEGY_FIELDS,
          },
        },
      },
    },
  },
};

/**
 * Read and check a Pipeline file, stream (spec.streamJob) or batch (spec.batchJob); every problem
 * names the file, line, field and what is accepted.
 */
export async function loadPipeline(file: string): Promise<StreamPipeline | BatchPipeline> {
  const parsed = await parseLocatedYaml(file, await readFile(file, 'utf8'));
  if (!parsed.yaml) throw new ConfigError(parsed.problems, `Fix ${file}; nothing was deployed.`);
  const value = parsed.yaml.value;
  const at = (p: string[]): { source: string; line?: number } => {
    const line = parsed.yaml!.lineOf(p);
    return { source: file, ...(line === undefined ? {} : { line }) };
  };
  const problems: ConfigProblem[] = validateValue(value, PIPELINE_SPEC).map((p) => ({
    ...at(p.path),
    field: p.path.join('.') || '(top level)',
    message: p.message,
    ...(p.accepted ? { accepted: p.accepted } : {}),
  }));
  if (!isPlainObject(value)) throw new ConfigError(problems, `Fix ${file}; nothing was deployed.`);
  const spec = isPlainObject(value.spec) ? value.spec : {};
  const name = isPlainObject(value.metadata) ? value.metadata.name : undefined;
  if (name === undefined)
    problems.push({
      ...at(['metadata']),
      field: 'metadata.name',
      message: 'is required',
      accepted: 'the pipeline name',
    });
  if (spec.batchJob !== undefined && spec.streamJob !== undefined)
    problems.push({
      ...at(['spec', 'batchJob']),
      field: 'spec.batchJob',
      message: 'is given with spec.streamJob',
      accepted: 'one of spec.streamJob (long-running services) and spec.batchJob (steps run in order)',
    });
  const stream = isPlainObject(spec.streamJob) ? spec.streamJob : undefined;
  if (!stream && spec.batchJob === undefined)
    problems.push({
      ...at(['spec']),
      field: 'spec.streamJob',
      message: 'is required, or spec.batchJob',
      accepted: 'spec.streamJob.microServices, or spec.batchJob.steps',
    });
  const batch =
    spec.batchJob !== undefined && !stream ? batchFromSpec(file, name as string, spec, at, problems) : undefined;
  const raw = Array.isArray(stream?.microServices) ? stream.microServices.filter(isPlainObject) : [];
  const seen = new Set<string>();
  for (const [i, service] of raw.entries()) {
    const where = ['spec', 'streamJob', 'microServices', String(i)];
    if (typeof service.name === 'string' && seen.has(service.name))
      problems.push({
        ...at(where),
        field: `${where.join('.')}.name`,
        message: `"${service.name}" is used twice`,
        accepted: 'distinct names',
      });
    if (typeof service.name === 'string') seen.add(service.name);
    const containers = isPlainObject(service.spec) ? service.spec.containers : undefined;
    const ok =
      Array.isArray(containers) &&
      containers.length > 0 &&
      containers.every((c) => isPlainObject(c) && typeof c.name === 'string' && typeof c.image === 'string');
    if (!ok)
      problems.push({
        ...at([...where, 'spec']),
        field: `${where.join('.')}.spec.containers`,
        message: 'needs at least one container with a name and an image',
        accepted: 'a pod spec, as in a Deployment: containers: [{ name, image, ... }]',
      });
  }
  const strategy = isPlainObject(spec.strategy) ? spec.strategy : {};
  const expire = typeof strategy.expire === 'string' ? new Date(strategy.expire.replace(' ', 'T')) : undefined;
  if (expire && Number.isNaN(expire.getTime()))
    problems.push({
      ...at(['spec', 'strategy', 'expire']),
      field: 'spec.strategy.expire',
      message: 'is not a date',
      accepted: 'a date and time such as "2027-07-15 19:55:00"',
    });
  if (problems.length > 0) throw new ConfigError(problems, `Fix ${file}; nothing was deployed.`);
  if (batch) return { ...batch, ...(expire ? { expire } : {}) };
  return {
    kind: 'stream',
    file,
    name: name as string,
    services: raw.map((s) => ({
      name: s.name as string,
      replicas: (s.replicas as number | undefined) ?? 1,
      podSpec: s.spec as MicroService['podSpec'],
    })),
    ...(expire ? { expire } : {}),
    storage: spec.storage === true,
  };
}

/** A micro-service's Deployment, and a Service when its containers name ports. */
export function renderStream(pipeline: StreamPipeline, namespace: string, stopped: boolean): Manifest[] {
  return pipeline.services.flatMap((service) => {
    const name = `${pipeline.name}-${service.name}`;
    const selector = { [PIPELINE_LABEL]: pipeline.name, [COMPONENT_LABEL]: service.name };
    const labels = { ...selector, 'app.kubernetes.io/managed-by': 'koala' };
    const annotations = {
      [REPLICAS_ANNOTATION]: String(service.replicas),
      ...(stopped ? { [STOPPED_ANNOTATION]: 'true' } : {}),
    };
    const deployment: Manifest = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name, namespace, labels, annotations },
      spec: {
        replicas: stopped ? 0 : service.replicas,
        selector: { matchLabels: selector },
        template: { metadata: { labels }, spec: pipeline.storage ? withStorage(service.podSpec) : service.podSpec },
      },
    };
    const ports = service.podSpec.containers.flatMap((c) => c.ports ?? []);
    if (ports.length === 0) return [deployment];
    const service_: Manifest = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace, labels },
      spec: {
        selector,
        ports: ports.map((p, i) => ({
          name: typeof p.name === 'string' ? p.name : `port-${i}`,
          port: p.containerPort,
          targetPort: p.containerPort,
          protocol: p.protocol ?? 'TCP',
        })),
      },
    };
    return [deployment, service_];
  });
}

/** Every container gets the object store's keys (envFrom the Secret) and its bucket (S3_BUCKET). */
function withStorage(podSpec: MicroService['podSpec']): MicroService['podSpec'] {
  return {
    ...podSpec,
    containers: podSpec.containers.map((c) => {
      const own = c as Record<string, unknown> & { env?: unknown[]; envFrom?: unknown[] };
      return {
        ...own,
        env: [
          ...(own.env ?? []),
          { name: 'S3_BUCKET', valueFrom: { configMapKeyRef: { name: STORAGE_CONFIGMAP, key: 'bucket' } } },
        ],
        envFrom: [...(own.envFrom ?? []), { secretRef: { name: STORAGE_SECRET } }],
      } as unknown as MicroService['podSpec']['containers'][number];
    }),
  };
}

/** A pipeline past strategy.expire does not start: deploy and start refuse it, naming the date. */
export function refuseExpired(pipeline: Pick<StreamPipeline, 'name' | 'expire'>, now = new Date()): void {
  if (pipeline.expire && pipeline.expire.getTime() <= now.getTime())
    throw new KoalaError(`Pipeline "${pipeline.name}" expired on ${pipeline.expire.toISOString()}`, {
      exitCode: EXIT.usage,
      hint: 'Move spec.strategy.expire later (or remove it) to run it again.',
    });
}
