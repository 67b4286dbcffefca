/**
 * A tool that fails at each step of `koala up` with the whole platform (kind, docker, helm, each
 * through its fault switch), then a plain `koala up`: the failed run stops with exit 1 and what
 * to do next, and the second run converges to the end state of an uninterrupted run. Each point
 * starts from the converged platform with that step's work undone (the cluster from nothing).
 * The table of points and outcomes is printed with the test's output. Every step that runs a
 * tool has a point; nodes-ready, cluster-spec, registry-hosting, object-store-buckets and
 * airflow-dags talk to the API server alone (interrupts.test.ts stops them instead).
 */
import { describe, expect, it } from 'vitest';
import { describeStop, difference, endState, undoStep, up, useConvergenceSuite } from './world.ts';

interface FailurePoint {
  step: string;
  tool: 'kind' | 'docker' | 'helm';
  args: string;
  stderr: string;
}

const POINTS: FailurePoint[] = [
  {
    step: 'cluster',
    tool: 'kind',
    args: 'create cluster',
    stderr: 'ERROR: failed to create cluster: failed to join node with kubeadm',
  },
  {
    step: 'registry',
    tool: 'docker',
    args: 'run -d --restart=always',
    stderr: 'docker: Error response from daemon: driver failed programming external connectivity.',
  },
  {
    step: 'registry-network',
    tool: 'docker',
    args: 'network connect',
    stderr: 'Error response from daemon: network kind not found',
  },
  {
    step: 'registry-hosts',
    tool: 'docker',
    args: 'exec -i',
    stderr: 'Error response from daemon: container is restarting, wait until the container is running',
  },
  {
    step: 'platform',
    tool: 'helm',
    args: 'upgrade koala-platform',
    stderr: 'Error: INSTALLATION FAILED: Kubernetes cluster unreachable: connection refused',
  },
  {
    step: 'spark-operator',
    tool: 'helm',
    args: 'upgrade spark-operator',
    stderr: 'Error: INSTALLATION FAILED: context deadline exceeded',
  },
  {
    step: 'object-store',
    tool: 'helm',
    args: 'upgrade minio',
    stderr: 'Error: INSTALLATION FAILED: context deadline exceeded',
  },
  {
    step: 'airflow-postgres',
    tool: 'helm',
    args: 'upgrade koala-postgres',
    stderr: 'Error: INSTALLATION FAILED: timed out waiting for the condition',
  },
  {
    step: 'airflow',
    tool: 'helm',
    args: 'upgrade airflow',
    stderr: 'Error: INSTALLATION FAILED: resource not ready, name: airflow-scheduler, kind: Deployment',
  },
  {
    step: 'rbac',
    tool: 'helm',
    args: 'upgrade koala-rbac',
    stderr: 'Error: UPGRADE FAILED: another operation (install/upgrade/rollback) is in progress',
  },
  {
    step: 'network-policies',
    tool: 'helm',
    args: 'upgrade koala-network-policies',
    stderr: 'Error: UPGRADE FAILED: the server is currently unable to handle the request',
  },
];

const suite = useConvergenceSuite('A failing tool at each step of koala up, then koala up again', 'helm3');

describe('a failing tool anywhere in koala up, then koala up: the same end state', () => {
  it.each(POINTS.map((p) => [`${p.step}: ${p.tool} ${p.args} fails`, p] as const))(
    '%s',
    async (name, point) => {
      const { world } = suite;
      await undoStep(world, point.step);
      world.fault({ tool: point.tool, args: point.args, mode: 'fail', times: 1, stderr: point.stderr });
      const failed = await up(world);
      const resumed = await up(world);
      const state = resumed.code === 0 ? endState(world) : undefined;
      const diff = state
        ? difference(suite.reference, state)
        : `the next up exited ${resumed.code}:\n${resumed.stdout}${resumed.stderr}`;
      suite.outcomes.push({
        point: name,
        stopped: describeStop(failed, point.step),
        resumed: `exit ${resumed.code}`,
        converged: diff === '',
        detail: diff,
      });
      expect(failed.code, failed.stdout + failed.stderr).toBe(1);
      // The failure is the tool's own words, and the run ends with what to do next.
      expect(failed.stdout + failed.stderr).toContain(point.stderr.split(':').at(-1)!.trim());
      expect(failed.stdout + failed.stderr).toMatch(/koala up/);
      expect(diff).toBe('');
    },
    600_000,
  );
});
