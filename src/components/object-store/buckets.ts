import type { UpStepId } from '../../orchestration/up-order.ts';
import type { V1Job } from '@kubernetes/client-node';
import { sha256 } from '../../charts/fetch.ts';
import { imageFor } from '../../charts/images.ts';
import { loadPins } from '../../charts/pins.ts';
import type { KoalaConfig } from '../../config/schema.ts';
import type { Step } from '../../engine/step.ts';
import type { Manifest } from '../../kube/client.ts';
import { jobOutcome, waitForJob } from '../../kube/readiness.ts';
import { waitGone } from '../../kube/wait.ts';
import type { PlatformContext } from '../../orchestration/context.ts';
import { KoalaError } from '../../util/errors.ts';
import { SECRETS } from '../names.ts';

/**
 * The default bucket(s), created by a Job in the store's namespace with the MinIO client,
 * which speaks to any S3 store (MinIO or SeaweedFS). The alias comes from MC_HOST_store in the
 * Secret, so no key is ever in the Job's arguments. The Job's name carries a digest of what it
 * does: a changed bucket list is a new Job; an unchanged one that succeeded is done.
 */

export const BUCKETS_LABEL = { 'koala.dev/job': 'buckets' };

export function bucketsJob(config: KoalaConfig, image: string): Manifest {
  const buckets = [...config.objectStore.buckets].sort();
  const { type, endpoint } = config.objectStore;
  // An external store's endpoint is in the Job's Secret: a new endpoint needs the Job again.
  const digest = sha256(JSON.stringify({ buckets, image, type, ...(type === 'external' ? { endpoint } : {}) })).slice(
    0,
    8,
  );
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: `koala-buckets-${digest}`,
      namespace: config.namespaces.objectStore,
      labels: { ...BUCKETS_LABEL, 'app.kubernetes.io/part-of': 'koala' },
    },
    spec: {
      backoffLimit: 10,
      template: {
        metadata: { labels: { ...BUCKETS_LABEL } },
        spec: {
          restartPolicy: 'OnFailure',
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 1000,
            runAsGroup: 1000,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'mc',
              image,
              command: [
                '/bin/sh',
                '-ec',
                'for bucket in "$@"; do mc mb --ignore-existing "store/$bucket"; done; mc ls store',
                'create-buckets',
                ...buckets,
              ],
              env: [
                {
                  name: 'MC_HOST_store',
                  valueFrom: { secretKeyRef: { name: SECRETS.objectStoreRoot, key: 'MC_HOST_store' } },
                },
                { name: 'MC_CONFIG_DIR', value: '/tmp/.mc' },
              ],
              resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '128Mi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  };
}

/**
 * `id` is object-store-buckets after the store's own install; for an external store, which has
 * no install, making its buckets is the object-store step itself.
 */
export function bucketsStep(
  ctx: PlatformContext,
  image: () => Promise<string>,
  id: UpStepId = 'object-store-buckets',
): Step {
  const ns = ctx.config.namespaces.objectStore;
  const buckets = ctx.config.objectStore.buckets;
  const waitMs = ctx.config.timeouts.componentSeconds * 1000;
  return {
    id,
    title:
      `Create the bucket${buckets.length === 1 ? '' : 's'} ${buckets.join(', ')}` +
      (ctx.config.objectStore.type === 'external' ? ` on ${ctx.config.objectStore.endpoint ?? ''}` : ''),
    timeoutMs: waitMs + 60_000,
    plan: async () => [
      { kind: 'manifest', manifest: bucketsJob(ctx.config, await image()) },
      { kind: 'wait', what: 'the bucket Job to succeed', timeoutMs: waitMs },
    ],
    async check() {
      if (buckets.length === 0) return { done: true, detail: 'no buckets configured' };
      const job = bucketsJob(ctx.config, await image());
      const outcome = jobOutcome(await (await ctx.kube()).get<V1Job>(job));
      return outcome === 'succeeded'
        ? { done: true, detail: `${buckets.join(', ')} exist` }
        : { done: false, reason: `bucket job ${outcome}` };
    },
    async run({ signal, report }) {
      const kube = await ctx.kube();
      const job = bucketsJob(ctx.config, await image());
      // Earlier Jobs (another bucket list, or this one failed): remove, then run this one.
      for (const old of await kube.list<V1Job>('batch/v1', 'Job', {
        namespace: ns,
        labelSelector: 'koala.dev/job=buckets',
      })) {
        if (old.metadata?.name !== job.metadata.name || jobOutcome(old) === 'failed') {
          await kube.delete({
            apiVersion: 'batch/v1',
            kind: 'Job',
            metadata: { name: old.metadata!.name!, namespace: ns },
          });
        }
      }
      const existing = await kube.get<V1Job>(job);
      if (existing && jobOutcome(existing) === 'failed') {
        await kube.delete(job);
        await waitGone(kube, job, { signal });
      }
      await kube.apply(job);
      const outcome = await waitForJob(kube, ns, job.metadata.name, { timeoutMs: waitMs, signal, onProgress: report });
      if (outcome !== 'succeeded') {
        throw new KoalaError(`The bucket job ${ns}/${job.metadata.name} failed`, {
          hint:
            `See why with \`kubectl logs -n ${ns} job/${job.metadata.name}\`; ` +
            `\`koala up --only ${id}\` runs it again.`,
        });
      }
      return `${buckets.join(', ')} created`;
    },
  };
}

/** Whether the current bucket Job succeeded: for a store koala did not install, the proof that pods reach it. */
export async function bucketsHealth(ctx: PlatformContext): Promise<{ ok: boolean; detail: string; missing?: boolean }> {
  const buckets = ctx.config.objectStore.buckets;
  if (buckets.length === 0) return { ok: true, detail: 'no buckets configured' };
  const job = bucketsJob(ctx.config, await imageFor(ctx.config, await loadPins(), 'mc'));
  const found = await (await ctx.kube()).get<V1Job>(job);
  if (!found) return { ok: false, missing: true, detail: `the bucket job has not run (${buckets.join(', ')})` };
  const outcome = jobOutcome(found);
  return outcome === 'succeeded'
    ? { ok: true, detail: `${buckets.join(', ')} exist` }
    : {
        ok: false,
        detail:
          `the bucket job ${job.metadata.namespace}/${job.metadata.name} ${outcome}; ` +
          `see why with \`kubectl logs -n ${job.metadata.namespace} job/${job.metadata.name}\``,
      };
}
