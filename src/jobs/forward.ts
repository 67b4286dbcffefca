import type { V1Pod, V1Service } from '@kubernetes/client-node';
import type { Kube } from '../kube/client.ts';
import { startPortForward, type ForwardTarget, type PortForwarder } from '../kube/port-forward.ts';
import { EXIT, KoalaError } from '../util/errors.ts';
import { resolveRun } from './apps.ts';
import type { ServiceRef, SparkPlatform } from './spark-platform.ts';
import { POD_LABEL_APP_NAME, POD_LABEL_ROLE } from './render.ts';

export const SPARK_UI_PORT = 4040;

export interface ForwardPlan {
  /** What the user asked for, in words. */
  title: string;
  /** Re-resolved on every connection, so a replaced pod is picked up. */
  resolve(): Promise<ForwardTarget>;
  /** http:// or the like, with the local port filled in. */
  url(localPort: number): string;
}

/**
 * `koala port-forward <target>`: the Spark UI of a run (a run name, or an app: its newest run),
 * or a platform service by name, resolved Service → ready pod → container port.
 */
export async function planForward(
  kube: Kube,
  platform: SparkPlatform,
  target: string,
  namespace?: string,
): Promise<ForwardPlan> {
  const service = Object.hasOwn(platform.services, target) ? platform.services[target] : undefined;
  if (service) {
    return {
      title: `${target} (service ${service.namespace}/${service.name}:${service.port})`,
      resolve: () => resolveService(kube, service),
      url: (port) => `http://127.0.0.1:${port}/`,
    };
  }
  const run = await resolveRun(kube, platform, target, namespace);
  const ns = run.metadata.namespace!;
  const name = run.metadata.name;
  return {
    title: `the Spark UI of ${ns}/${name}`,
    async resolve() {
      const pods = await kube.list<V1Pod>('v1', 'Pod', {
        namespace: ns,
        labelSelector: `${POD_LABEL_APP_NAME}=${name},${POD_LABEL_ROLE}=driver`,
      });
      const running = pods.find((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
      if (!running) {
        const phases = pods.map((p) => `${p.metadata?.name}: ${p.status?.phase}`).join(', ') || 'no driver pod';
        throw new KoalaError(
          `The driver of ${name} is not running (${phases}); the Spark UI lives only while the driver runs`,
          {
            hint: '`koala apps status` shows the run; the UI of a finished run is gone with its driver.',
          },
        );
      }
      return {
        namespace: ns,
        pod: running.metadata!.name!,
        port: uiPort(running),
        ...(running.metadata?.uid ? { uid: running.metadata.uid } : {}),
      };
    },
    url: (port) => `http://127.0.0.1:${port}/`,
  };
}

function uiPort(pod: V1Pod): number {
  for (const container of pod.spec?.containers ?? []) {
    const port = container.ports?.find((p) => p.name === 'spark-ui');
    if (port) return port.containerPort;
  }
  return SPARK_UI_PORT;
}

/** Service → a ready pod its selector picks → the container port its targetPort names. */
export async function resolveService(kube: Kube, ref: ServiceRef): Promise<ForwardTarget> {
  const service = await kube.get<V1Service>({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: ref.name, namespace: ref.namespace },
  });
  if (!service) {
    throw new KoalaError(`Service ${ref.namespace}/${ref.name} does not exist`, {
      exitCode: EXIT.failure,
      hint: 'Is the component installed? `koala status` tells; `koala up` installs it.',
    });
  }
  const selector = Object.entries(service.spec?.selector ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  if (!selector)
    throw new KoalaError(`Service ${ref.namespace}/${ref.name} has no selector`, {
      hint: 'koala can only forward to services that select pods.',
    });
  const pods = await kube.list<V1Pod>('v1', 'Pod', { namespace: ref.namespace, labelSelector: selector });
  const ready = pods.find(
    (p) =>
      !p.metadata?.deletionTimestamp && p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
  );
  if (!ready)
    throw new KoalaError(`No ready pod behind service ${ref.namespace}/${ref.name}`, {
      hint: '`koala status` shows which component is not ready.',
    });
  const servicePort = service.spec?.ports?.find((p) => p.port === ref.port) ?? service.spec?.ports?.[0];
  const targetPort = servicePort?.targetPort ?? servicePort?.port ?? ref.port;
  let port = typeof targetPort === 'number' ? targetPort : Number(targetPort);
  if (Number.isNaN(port)) {
    // A named targetPort: find it among the pod's container ports.
    port =
      (ready.spec?.containers ?? []).flatMap((c) => c.ports ?? []).find((p) => p.name === targetPort)?.containerPort ??
      ref.port;
  }
  return {
    namespace: ref.namespace,
    pod: ready.metadata!.name!,
    port,
    ...(ready.metadata?.uid ? { uid: ready.metadata.uid } : {}),
  };
}

export async function forward(
  kube: Kube,
  plan: ForwardPlan,
  options: { localPort?: number; signal: AbortSignal; onEvent?: Parameters<typeof startPortForward>[1]['onEvent'] },
): Promise<PortForwarder> {
  // Resolve once up front, so a wrong target fails now rather than at the first connection.
  await plan.resolve();
  return startPortForward(kube, {
    resolve: plan.resolve,
    signal: options.signal,
    ...(options.localPort ? { localPort: options.localPort } : {}),
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
}
