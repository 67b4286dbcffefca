import { randomBytes } from 'node:crypto';
import { makeWorld, type World } from '../support/cli.ts';
import { kubeconfigFor } from '../support/spark.ts';

/**
 * A project for the Spark job loop: a koala.yaml naming a cluster whose kubeconfig context
 * points at the test bed, with the given job namespaces. Real tools unless `fakes` says so.
 */
export function jobsWorld(options: {
  jobNamespaces: string[];
  registryPort?: number;
  fakes?: Array<'kind' | 'docker' | 'kubectl'>;
  extraYaml?: string;
}): World & { cluster: string } {
  const world = makeWorld({ fakes: options.fakes ?? ['kind'] });
  const cluster = `j${randomBytes(3).toString('hex')}`;
  kubeconfigFor(cluster, world.env.KUBECONFIG!);
  world.writeConfig(
    [
      'cluster:',
      `  name: ${cluster}`,
      'registry:',
      options.registryPort ? `  port: ${options.registryPort}` : '  enabled: false',
      'spark:',
      `  jobNamespaces: [${options.jobNamespaces.join(', ')}]`,
      options.extraYaml ?? '',
    ].join('\n'),
  );
  return Object.assign(world, { cluster });
}
