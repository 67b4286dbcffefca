import type { Manifest } from '../kube/client.ts';
import { ingressFor, podsServiceName } from '../components/gateway/routes.ts';
import type { Task } from './manifest.ts';

/**
 * A task's Kubernetes objects: a Job, a CronJob, a Deployment, or a Deployment and its Service.
 * Every object carries the manifest's labels plus koala's (`koala.dev/task` finds a task's
 * objects again); the pods carry them too, so the manifest's labels select the Service's pods
 * as the datatask platform used them.
 */

export const TASK_LABEL = 'koala.dev/task';
/** Where tasks go when no --namespace says otherwise. */
export const DEFAULT_TASK_NAMESPACE = 'tasks';
/**
 * What a task with `storage: true` reads the object store from, in its own namespace: the Secret
 * holds the keys and the endpoint as the AWS SDKs read them (envFrom); the ConfigMap says which
 * bucket, endpoint and Secret make the default store, as the Koalja storage config did.
 */
export const STORAGE_SECRET = 'object-store-s3';
export const STORAGE_CONFIGMAP = 'object-store';
/** Where a secret given by svc-account-secret is mounted, read-only. */
export const SVC_ACCOUNT_MOUNT = '/var/secrets/svc-account';

export function taskLabels(task: Task): Record<string, string> {
  return { ...task.labels, [TASK_LABEL]: task.name, 'app.kubernetes.io/managed-by': 'koala' };
}

/** `image`: what the pods run, the image-source as written or the reference koala built and pushed. */
/** `ingressClass`: the platform's (ingressClassOf), which a published service's Ingress names. */
export function renderTask(task: Task, namespace: string, image: string, ingressClass = 'koala'): Manifest[] {
  const labels = taskLabels(task);
  const metadata = { name: task.name, namespace, labels };
  const pod = podTemplate(task, labels, image);
  switch (task.kind) {
    case 'job':
      return [{ apiVersion: 'batch/v1', kind: 'Job', metadata, spec: { template: withRestart(pod, 'Never') } }];
    case 'cronjob':
      return [
        {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          metadata,
          spec: {
            schedule: task.schedule,
            jobTemplate: { metadata: { labels }, spec: { template: withRestart(pod, 'Never') } },
          },
        },
      ];
    case 'deployment':
    case 'service': {
      const selector = { [TASK_LABEL]: task.name };
      const deployment: Manifest = {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata,
        spec: { replicas: task.replicas, selector: { matchLabels: selector }, template: pod },
      };
      if (task.kind === 'deployment' || !task.port) return [deployment];
      const service: Manifest = {
        apiVersion: 'v1',
        kind: 'Service',
        metadata,
        // The manifest's labels select the Service's pods, as on the datatask platform.
        spec: {
          selector: task.labels,
          ports: [{ name: task.port.name, port: task.port.containerPort, targetPort: task.port.name, protocol: 'TCP' }],
          ...(task.published?.stickySessions ? { sessionAffinity: 'ClientIP' } : {}),
        },
      };
      if (!task.published) return [deployment, service];
      const route = { name: task.name, namespace, labels, service: task.name, port: task.port.containerPort };
      return [
        deployment,
        service,
        // With sticky sessions the gateway sees each pod through a headless twin of the Service.
        ...(task.published.stickySessions
          ? [{ ...service, metadata: { ...metadata, name: podsServiceName(task.name) }, spec: headless(service) }]
          : []),
        ingressFor({ ...route, ingressClass, published: task.published }),
      ];
    }
  }
}

function headless(service: Manifest): Record<string, unknown> {
  const { sessionAffinity: _, ...spec } = service.spec as Record<string, unknown>;
  return { ...spec, clusterIP: 'None' };
}

interface PodTemplate {
  metadata: { labels: Record<string, string> };
  spec: Record<string, unknown>;
}

function withRestart(pod: PodTemplate, restartPolicy: 'Never' | 'OnFailure'): PodTemplate {
  return { ...pod, spec: { ...pod.spec, restartPolicy } };
}

function podTemplate(task: Task, labels: Record<string, string>, image: string): PodTemplate {
  const volumes: Array<Record<string, unknown>> = task.volumes.map((v) => ({
    name: v.name,
    ...('secret' in v.source
      ? { secret: { secretName: v.source.secret } }
      : 'configMap' in v.source
        ? { configMap: { name: v.source.configMap } }
        : 'persistentVolumeClaim' in v.source
          ? { persistentVolumeClaim: { claimName: v.source.persistentVolumeClaim } }
          : { emptyDir: {} }),
  }));
  const mounts: Array<Record<string, unknown>> = task.volumes.map((v) => ({
    name: v.name,
    mountPath: v.mountPath,
    ...(v.readOnly ? { readOnly: true } : {}),
  }));
  if (task.serviceAccountSecret) {
    volumes.push({ name: 'svc-account', secret: { secretName: task.serviceAccountSecret } });
    mounts.push({ name: 'svc-account', mountPath: SVC_ACCOUNT_MOUNT, readOnly: true });
  }
  const env: Array<Record<string, unknown>> = task.env.map((e) => ({ name: e.name, value: e.value }));
  if (task.storage)
    env.push({ name: 'S3_BUCKET', valueFrom: { configMapKeyRef: { name: STORAGE_CONFIGMAP, key: 'bucket' } } });
  const resources = Object.fromEntries(Object.entries(task.resources).filter(([, v]) => Object.keys(v).length > 0));
  const container: Record<string, unknown> = {
    name: task.name,
    image,
    imagePullPolicy: task.imagePullPolicy,
    ...(task.cmd.length > 0 ? { command: task.cmd } : {}),
    ...(env.length > 0 ? { env } : {}),
    ...(task.storage ? { envFrom: [{ secretRef: { name: STORAGE_SECRET } }] } : {}),
    ...(Object.keys(resources).length > 0 ? { resources } : {}),
    ...(task.port
      ? { ports: [{ name: task.port.name, containerPort: task.port.containerPort, protocol: 'TCP' }] }
      : {}),
    ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
  };
  return {
    metadata: { labels },
    spec: {
      containers: [container],
      ...(volumes.length > 0 ? { volumes } : {}),
      ...(task.tolerations.length > 0 ? { tolerations: task.tolerations } : {}),
      ...(Object.keys(task.nodeSelector).length > 0 ? { nodeSelector: task.nodeSelector } : {}),
    },
  };
}
