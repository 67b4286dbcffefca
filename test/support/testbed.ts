/**
 * Access to the real control plane started by global-setup.ts (kube-apiserver, etcd,
 * controller-manager, scheduler and kwok nodes), for tests of the testbed tier.
 *
 * In CI (CI=true) a missing test bed is a failure, never a skip.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { Kube } from '../../src/kube/client.ts';

export const REPO = path.resolve(import.meta.dirname, '../..');

export interface Testbed {
  /** Admin kubeconfig of the shared test-bed cluster. */
  kubeconfig: string;
  context: string;
  /** Directory with helm3, helm4, registry, kwokctl, kube-* and etcd. */
  binDir: string;
}

export function testbed(): Testbed {
  const kubeconfig = process.env.KOALA_TESTBED_KUBECONFIG;
  const context = process.env.KOALA_TESTBED_CONTEXT;
  const binDir = process.env.KOALA_TESTBED_BIN;
  if (!kubeconfig || !context || !binDir) {
    throw new Error(
      'The test bed is not running: ' +
        'run the tests with `npm test` (or `npx vitest --project testbed`), which starts it.',
    );
  }
  return { kubeconfig, context, binDir };
}

export async function testbedKube(): Promise<Kube> {
  const tb = testbed();
  return Kube.connect({ kubeconfig: tb.kubeconfig, context: tb.context });
}

/** kubectl against the test bed, for assertions only (koala itself never shells out to kubectl). */
export function kubectl(args: string[], input?: string): string {
  const tb = testbed();
  return execFileSync('kubectl', ['--kubeconfig', tb.kubeconfig, '--context', tb.context, ...args], {
    encoding: 'utf8',
    ...(input ? { input } : {}),
  });
}

/**
 * A namespace of its own for the tests of one file, created before them and deleted after
 * (deletion completes: the controller-manager runs).
 */
export function useNamespace(prefix: string): { readonly name: string } {
  const ns = { name: `${prefix}-${randomBytes(3).toString('hex')}` };
  beforeAll(async () => {
    const kube = await testbedKube();
    await kube.apply({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns.name, labels: { 'koala.test/owner': prefix } },
    });
  });
  afterAll(async () => {
    const kube = await testbedKube();
    await kube.delete({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns.name } });
  });
  return ns;
}
