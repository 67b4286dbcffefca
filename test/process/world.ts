import { randomBytes } from 'node:crypto';
import { onTestFinished } from 'vitest';
import { freePort, hostPortsYaml, koala, makeWorld, type World } from '../support/cli.ts';

/**
 * A world for `koala up` with fake kind/docker/kubectl, a real control plane behind the kind
 * stand-in, and a koala.yaml whose ports are free and whose components beyond the cluster and
 * registry are off (their own tests install them). Torn down when the test finishes.
 */
export async function upWorld(
  options: { controlPlanes?: number; workers?: number; extraYaml?: string } = {},
): Promise<World & { name: string; registryPort: number }> {
  const world = makeWorld({ env: { KOALA_IGNORE_CHECKS: 'inotify' } });
  const name = `p${randomBytes(3).toString('hex')}`;
  const registryPort = await freePort();
  world.writeConfig(
    [
      'cluster:',
      `  name: ${name}`,
      `  controlPlanes: ${options.controlPlanes ?? 1}`,
      `  workers: ${options.workers ?? 1}`,
      'registry:',
      `  port: ${registryPort}`,
      ...(await hostPortsYaml()),
      'components:',
      '  spark-operator: { enabled: false }',
      '  object-store: { enabled: false }',
      '  airflow: { enabled: false }',
      options.extraYaml ?? '',
    ].join('\n'),
  );
  onTestFinished(async () => {
    // Whatever a test left behind: the stand-in's control plane processes above all.
    await koala(world, ['down', '--yes']);
  });
  return Object.assign(world, { name, registryPort });
}
