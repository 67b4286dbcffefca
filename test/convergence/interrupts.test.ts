/**
 * Ctrl-C at every step of `koala up` with the whole platform, at its start or in the middle of
 * its work, then a plain `koala up`: the second run must converge to the end state of an
 * uninterrupted run (the same releases, all deployed; the same objects; the same containers,
 * networks and volumes; no duplicate; the credentials the first run made). Each point starts
 * from the converged platform with that step's work undone (the cluster steps from nothing), so
 * the interrupted run has that step, and what depends on it, to do. The table of points and
 * outcomes is printed with the test's output.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { koala, type KoalaResult } from '../support/cli.ts';
import { startChartMirror, type ChartMirror } from '../support/chart-mirror.ts';
import { testbed } from '../support/testbed.ts';
import {
  describeStop,
  difference,
  endState,
  interruptAtStart,
  platformWorld,
  undoStep,
  table,
  up,
  type EndState,
  type Outcome,
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
const atStart = (step: string): Point => ({ name: `${step}: at its start`, step, stop: (world) => interruptAtStart(world, step) });

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

let mirror: ChartMirror;
let world: PlatformWorld;
let reference: EndState;
const outcomes: Outcome[] = [];

beforeAll(async () => {
  mirror = await startChartMirror(path.join(testbed().binDir, 'helm3'));
  world = await platformWorld(mirror);
  const first = await up(world);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  reference = endState(world);
  expect(reference.problems).toEqual([]);
  expect(reference.releases).toHaveLength(7);
}, 600_000);

afterAll(async () => {
  console.log(`\nCtrl-C at every step of koala up, then koala up again:\n${table(outcomes)}\n`);
  world?.stop();
  if (world) await koala(world, ['down', '--yes']);
  await mirror?.close();
});

describe('Ctrl-C anywhere in koala up, then koala up: the same end state', () => {
  it.each(POINTS.map((p) => [p.name, p] as const))('%s', async (_name, point) => {
    await undoStep(world, point.step);
    const stopped = await point.stop(world);
    const resumed = await up(world);
    const state = resumed.code === 0 ? endState(world) : undefined;
    const diff = state ? difference(reference, state) : `the next up exited ${resumed.code}:\n${resumed.stdout}${resumed.stderr}`;
    outcomes.push({ point: point.name, stopped: describeStop(stopped, point.step), resumed: `exit ${resumed.code}`, converged: diff === '', detail: diff });
    expect(stopped.code, `the interrupted run: ${stopped.stdout}${stopped.stderr}`).toBe(130);
    expect(diff).toBe('');
  }, 600_000);
});
