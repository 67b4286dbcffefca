/**
 * Orchestration benchmark: `koala up` with fake tools that sleep, against its
 * critical path. The critical path is the longest chain of dependent steps, each counted at
 * the duration koala measured for it, so the ratio shows what the engine and the fixed costs
 * (start-up, config, preflight, inspection) add on top of work that cannot overlap.
 * Target: wall time at most 1.05x the critical path.
 *
 *   node bench/orchestration.ts            (Node 24 runs TypeScript directly)
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { freePort, hostPortsYaml, koala, makeWorld } from '../test/support/cli.ts';

const REPO = path.resolve(import.meta.dirname, '..');
process.env.KOALA_TESTBED_BIN ??= execFileSync('bash', [path.join(REPO, 'scripts/testbed/env.sh')], {
  encoding: 'utf8',
}).trim();

const delays = { kindCreate: 6000, dockerRun: 3000, networkConnect: 1500, hostsWrite: 1000 };
const world = makeWorld({ env: { KOALA_IGNORE_CHECKS: 'inotify' } });
world.writeConfig(
  [
    'cluster: { name: bench, controlPlanes: 3, workers: 3 }',
    `registry: { port: ${await freePort()} }`,
    ...(await hostPortsYaml()),
    'components: { spark-operator: { enabled: false }, object-store: { enabled: false }, airflow: { enabled: false } }',
  ].join('\n'),
);
world.fault({ tool: 'kind', args: 'create cluster', delayMs: delays.kindCreate });
world.fault({ tool: 'docker', args: 'run -d --restart=always', delayMs: delays.dockerRun });
world.fault({ tool: 'docker', args: 'network connect', delayMs: delays.networkConnect });
world.fault({ tool: 'docker', args: 'exec -i', delayMs: delays.hostsWrite });

try {
  const plan = JSON.parse((await koala(world, ['up', '--dry-run', '--json'])).stdout) as {
    steps: Array<{ id: string; needs: string[] }>;
  };
  const started = performance.now();
  const result = await koala(world, ['up', '--json']);
  const wall = performance.now() - started;
  if (result.code !== 0) throw new Error(`koala up failed:\n${result.stderr}\n${result.stdout}`);
  const report = JSON.parse(result.stdout) as { durationMs: number; steps: Array<{ id: string; durationMs: number }> };
  const duration = new Map(report.steps.map((s) => [s.id, s.durationMs]));
  const needs = new Map(plan.steps.map((s) => [s.id, s.needs]));
  const finish = new Map<string, number>();
  const longest = (id: string): number => {
    if (!finish.has(id)) finish.set(id, (duration.get(id) ?? 0) + Math.max(0, ...(needs.get(id) ?? []).map(longest)));
    return finish.get(id)!;
  };
  const critical = Math.max(...plan.steps.map((s) => longest(s.id)));
  const serial = [...duration.values()].reduce((a, b) => a + b, 0);
  const ms = (n: number): string => `${(n / 1000).toFixed(2)} s`;
  const ratio = (n: number): string => `${(n / critical).toFixed(3)}x critical path`;
  const sleeps = [
    `kind create +${delays.kindCreate / 1000}s`,
    `registry run +${delays.dockerRun / 1000}s`,
    `network connect +${delays.networkConnect / 1000}s`,
    `hosts.toml per node +${delays.hostsWrite / 1000}s`,
  ];
  console.log(`koala up with sleeping fakes (${sleeps.join(', ')})`);
  console.log(`  critical path (baseline)   ${ms(critical)}`);
  console.log(`  engine run                 ${ms(report.durationMs)}   ${ratio(report.durationMs)}`);
  console.log(`  wall, whole process        ${ms(wall)}   ${ratio(wall)}`);
  console.log(`  sum of all steps (serial)  ${ms(serial)}   ${ratio(serial)}`);
  for (const s of report.steps) console.log(`    ${s.id.padEnd(18)} ${ms(s.durationMs)}`);
} finally {
  await koala(world, ['down', '--yes']);
}
