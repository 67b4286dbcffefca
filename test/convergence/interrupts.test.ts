/**
 * Ctrl-C at every step of `koala up` with the whole platform, at its start or in the middle of
 * its work, then a plain `koala up`: the second run must converge to the end state of an
 * uninterrupted run (the same releases, all deployed; the same objects; the same containers,
 * networks and volumes; no duplicate; the credentials the first run made). Each point starts
 * from the converged platform with that step's work undone (the cluster steps from nothing), so
 * the interrupted run has that step, and what depends on it, to do. The table of points and
 * outcomes is printed with the test's output.
 */
import { describe, expect, it } from 'vitest';
import { koala, type KoalaResult } from '../support/cli.ts';
import {
  describeStop,
  difference,
  endState,
  interruptAtStart,
  undoStep,
  up,
  useConvergenceSuite,
  type PlatformWorld,
} from './world.ts';

interface Point {
  name: string;
  step: string;
  /** Sets a fault (if any) and runs the interrupted `koala up`. */
  stop(world: PlatformWorld): Promise<KoalaResult>;
}

const during = (step: string, tool: 'docker' | 'helm', args: string, delayMs = 0): Point => ({
  name: `${step}: in the middle (${tool} ${args}${delayMs ? ` at work for ${delayMs / 1000}s` : ''})`,
  step,
  async stop(world) {
    world.fault({ tool, args, mode: 'interrupt', times: 1, delayMs });
    return koala(world, ['up']);
  },
});
const atStart = (step: string): Point => ({
  name: `${step}: at its start`,
  step,
  stop: (world) => interruptAtStart(world, step),
});

const POINTS: Point[] = [
  {
    name: 'cluster: in the middle (kind create: nodes made, control plane starting)',
    step: 'cluster',
    async stop(world) {
      world.fault({ tool: 'kind', args: 'create cluster', mode: 'interrupt', at: 'control-plane', times: 1 });
      return koala(world, ['up']);
    },
  },
  during('registry', 'docker', 'run -d --restart=always'),
  during('registry-network', 'docker', 'network connect'),
  during('registry-hosts', 'docker', 'exec -i'),
  atStart('registry-hosting'),
  atStart('platform'),
  during('spark-operator', 'helm', 'upgrade spark-operator', 2500),
  during('object-store', 'helm', 'upgrade minio', 1500),
  atStart('object-store-buckets'),
  during('airflow-postgres', 'helm', 'upgrade koala-postgres', 1000),
  atStart('airflow-dags'),
  during('airflow', 'helm', 'upgrade airflow', 3000),
  during('rbac', 'helm', 'upgrade koala-rbac', 500),
  during('network-policies', 'helm', 'upgrade koala-network-policies', 1000),
];

const suite = useConvergenceSuite('Ctrl-C at every step of koala up, then koala up again', 'helm4');

describe('Ctrl-C anywhere in koala up, then koala up: the same end state', () => {
  it.each(POINTS.map((p) => [p.name, p] as const))(
    '%s',
    async (_name, point) => {
      const { world } = suite;
      await undoStep(world, point.step);
      const stopped = await point.stop(world);
      const resumed = await up(world);
      const state = resumed.code === 0 ? endState(world) : undefined;
      const diff = state
        ? difference(suite.reference, state)
        : `the next up exited ${resumed.code}:\n${resumed.stdout}${resumed.stderr}`;
      suite.outcomes.push({
        point: point.name,
        stopped: describeStop(stopped, point.step),
        resumed: `exit ${resumed.code}`,
        converged: diff === '',
        detail: diff,
      });
      expect(stopped.code, `the interrupted run: ${stopped.stdout}${stopped.stderr}`).toBe(130);
      expect(diff).toBe('');
    },
    600_000,
  );
});
