/**
 * Tasks benchmark: `koala tasks deploy` of 20 datatask manifests on a test-bed API server, the
 * first time and again with nothing changed, against `kubectl apply --server-side` of the very
 * objects koala rendered (what a team applying its manifests by hand runs), again with nothing
 * changed. Both second runs write nothing; koala reads each object once and compares the hash it
 * recorded, kubectl sends each object for the server to compare. Alternating rounds, medians.
 *
 *   node bench/tasks-deploy.ts          (BENCH_ROUNDS=5, BENCH_TASKS=20 by default)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { koala, makeWorld } from '../test/support/cli.ts';
import { median, startBed } from './lib/testbed.ts';

const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const count = Number(process.env.BENCH_TASKS ?? 20);
const bed = startBed('bench-jobs');
try {
  const world = makeWorld({ fakes: ['kind'] });
  world.env.KUBECONFIG = bed.kubeconfig;
  world.writeConfig(
    `cluster: { name: ${bed.cluster} }\nregistry: { enabled: false }\nspark: { jobNamespaces: [bench-jobs] }`,
  );
  const root = path.join(world.project, 'tasks');
  for (let i = 0; i < count; i++) {
    const dir = path.join(root, `t${i}`);
    mkdirSync(dir, { recursive: true });
    const service = i % 2 === 0;
    writeFileSync(
      path.join(dir, 'manifest.json'),
      JSON.stringify({
        labels: `app:t${i}`,
        type: service ? 'service' : 'job',
        name: `t${i}`,
        'image-source': 'koala-test/base:1',
        env: [{ name: 'N', value: String(i) }],
        cmd: ['sleep', '1'],
        ...(service ? { replicas: 1, 'name-port': 'http', 'container-port': 8080 } : {}),
      }),
    );
  }
  const deploy = async (): Promise<number> => {
    const t0 = performance.now();
    const r = await koala(world, ['tasks', 'deploy', root, '-n', 'bench-tasks', '--json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return performance.now() - t0;
  };
  const first = await deploy();
  const rendered = path.join(world.project, 'rendered.yaml');
  writeFileSync(rendered, (await koala(world, ['tasks', 'deploy', root, '-n', 'bench-tasks', '--dry-run'])).stdout);
  const kubectlApply = (): number => {
    const t0 = performance.now();
    execFileSync(
      'kubectl',
      [
        '--kubeconfig',
        bed.kubeconfig,
        'apply',
        '--server-side',
        '--field-manager',
        'bench',
        '--force-conflicts',
        '-f',
        rendered,
      ],
      { stdio: 'ignore' },
    );
    return performance.now() - t0;
  };
  kubectlApply(); // the first: takes over nothing, changes nothing koala applied
  const koalaRuns: number[] = [];
  const kubectlRuns: number[] = [];
  for (let i = 0; i < rounds; i++) {
    koalaRuns.push(await deploy());
    kubectlRuns.push(kubectlApply());
  }
  const objects = count + count / 2;
  const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
  console.log(`koala tasks deploy, ${count} tasks (${objects} objects) on a test-bed API server`);
  console.log(`  first deploy (creates namespace and objects): ${s(first)}`);
  console.log(`  again, nothing changed (median of ${rounds}):      ${s(median(koalaRuns))}`);
  console.log(`  kubectl apply --server-side of the same objects:  ${s(median(kubectlRuns))}`);
  console.log(
    `  ratio koala / kubectl (unchanged):                 ${(median(koalaRuns) / median(kubectlRuns)).toFixed(3)}x`,
  );
} finally {
  bed.stop();
}
