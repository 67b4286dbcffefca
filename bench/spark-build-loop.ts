/**
 * Benchmark of the Spark job loop (edit, build, push, submit), against a real API server,
 * Docker and registry:
 *  (a) re-running an unchanged app: koala's time until the SparkApplication exists, and the
 *      bytes pushed; baseline ("seed" in the output): the plain loop of docker build +
 *      docker push :latest + kubectl apply, measured in the same run.
 *  (b) a one-line code change: the bytes pushed against the size of the image.
 * Bytes are counted by a TCP proxy in front of the registry (what actually went over the wire).
 * The base image is koala-test/python:1 (117 MB) standing in for apache/spark (nothing can be
 * pulled here); with the real base the image, and so ratio (b), is ~10x larger.
 *
 *   node bench/spark-build-loop.ts        (BENCH_RUNS=5 by default)
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { countingProxy, freePort, mb, median, REPO, startBed } from './lib/testbed.ts';

const runs = Number(process.env.BENCH_RUNS ?? 5);
const BASE = 'SPARK_IMAGE=koala-test/python:1';
const docker = (args: string[]): string =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
// The byte-counting proxy lives in this process: anything that pushes must not block its loop.
const run = promisify(execFile);
const dockerAsync = (args: string[]): Promise<unknown> => run('docker', args, { maxBuffer: 64 << 20 });

const bed = startBed();
const registry = `koala-bench-registry-${process.pid}`;
const registryPort = await freePort();
docker(['run', '-d', '--name', registry, '-p', `127.0.0.1:${registryPort}:5000`, 'koala-test/registry:3']);
const proxy = await countingProxy(registryPort);
try {
  for (
    let i = 0;
    i < 100 &&
    !(await fetch(`http://127.0.0.1:${registryPort}/v2/`).then(
      (r) => r.ok,
      () => false,
    ));
    i++
  )
    await new Promise((r) => setTimeout(r, 100));
  const project = mkdtempSync(path.join(os.tmpdir(), 'koala-bench-project-'));
  writeFileSync(path.join(project, '.git'), '');
  writeFileSync(
    path.join(project, 'koala.yaml'),
    `cluster:\n  name: ${bed.cluster}\nregistry:\n  port: ${proxy.port}\nspark:\n  jobNamespaces: [${bed.namespace}]\n`,
  );
  const env = { ...process.env, KUBECONFIG: bed.kubeconfig, KOALA_HOME: path.join(project, '.koala-home'), CI: 'true' };
  const koala = async (args: string[]): Promise<{ ms: number; stdout: string }> => {
    const t0 = performance.now();
    try {
      const r = await run(process.execPath, [path.join(REPO, 'bin/run.js'), ...args], {
        cwd: project,
        env,
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
      return { ms: performance.now() - t0, stdout: r.stdout };
    } catch (error) {
      const e = error as { stdout?: string; stderr?: string; code?: number };
      throw new Error(`koala ${args.join(' ')} exited ${e.code}: ${e.stderr}${e.stdout}`, { cause: error });
    }
  };
  await koala(['new', 'spark-app', 'pagerank']);
  const appDir = path.join(project, 'spark-applications/pagerank');

  proxy.reset();
  const cold = JSON.parse((await koala(['build', 'pagerank', '--build-arg', BASE, '--json'])).stdout) as {
    image: string;
  };
  const coldBytes = proxy.bytesUp();
  const imageBytes = await imageSize(cold.image);

  // (a) koala: an unchanged app, run again and again (detached: the time until it exists).
  const koalaWall: number[] = [];
  const koalaSubmit: number[] = [];
  const koalaBytes: number[] = [];
  const phases: Array<Record<string, number>> = [];
  for (let i = 0; i < runs; i++) {
    proxy.reset();
    const r = await koala(['run', 'pagerank', '--detach', '--json', '--build-arg', BASE]);
    const doc = JSON.parse(r.stdout) as {
      submitMs: number;
      phases: Record<string, number>;
      build?: { built: boolean; delivered: boolean };
    };
    phases.push(doc.phases);
    if (doc.build?.built || doc.build?.delivered) throw new Error('an unchanged app was rebuilt or pushed');
    koalaWall.push(r.ms);
    koalaSubmit.push(doc.submitMs);
    koalaBytes.push(proxy.bytesUp());
  }

  // (a) baseline: the plain loop, `:latest` rebuilt, pushed and applied every time.
  const seedImage = `localhost:${proxy.port}/seed/pagerank:latest`;
  const manifest = (name: string): string =>
    JSON.stringify({
      apiVersion: 'sparkoperator.k8s.io/v1beta2',
      kind: 'SparkApplication',
      metadata: { name, namespace: bed.namespace },
      spec: {
        type: 'Python',
        pythonVersion: '3',
        mode: 'cluster',
        image: seedImage,
        imagePullPolicy: 'Always',
        mainApplicationFile: 'local:///app/pagerank.py',
        sparkVersion: '4.0.4',
        driver: { cores: 1, memory: '512m', serviceAccount: 'spark-operator-spark' },
        executor: { cores: 1, instances: 3, memory: '512m' },
      },
    });
  const seedLoop = async (i: number): Promise<number> => {
    const t0 = performance.now();
    await dockerAsync(['build', '-q', '-t', seedImage, '--build-arg', BASE, appDir]);
    await dockerAsync(['push', seedImage]);
    bed.kubectl(['apply', '-f', '-'], manifest(`pyspark-pagerank-${i}`));
    return performance.now() - t0;
  };
  await seedLoop(0); // warm-up: the first push to the baseline's repository is not a re-run
  const seedWall: number[] = [];
  const seedBytes: number[] = [];
  for (let i = 1; i <= runs; i++) {
    proxy.reset();
    seedWall.push(await seedLoop(i));
    seedBytes.push(proxy.bytesUp());
  }

  // (b) a one-line change to the code.
  const changeBytes: number[] = [];
  const changeWall: number[] = [];
  const code = path.join(appDir, 'pagerank.py');
  for (let i = 0; i < runs; i++) {
    writeFileSync(code, `${readFileSync(code, 'utf8')}# edit ${i}\n`);
    proxy.reset();
    const t0 = performance.now();
    const doc = JSON.parse((await koala(['build', 'pagerank', '--build-arg', BASE, '--json'])).stdout) as {
      built: boolean;
      layersPushed: number;
    };
    changeWall.push(performance.now() - t0);
    if (!doc.built) throw new Error('a changed app was not rebuilt');
    changeBytes.push(proxy.bytesUp());
  }

  const a = median(koalaWall);
  const s = median(seedWall);
  console.log(
    `Spark job loop, median of ${runs} runs ` +
      `(${os.cpus().length} cores; base image koala-test/python:1, ${mb(imageBytes)} compressed)`,
  );
  console.log('(a) re-run of an unchanged app, until the SparkApplication exists');
  console.log(
    `    koala run --detach          ${a.toFixed(0).padStart(6)} ms wall ` +
      `(in-process ${median(koalaSubmit).toFixed(0)} ms), pushed ${mb(median(koalaBytes))}`,
  );
  console.log(
    `      of which: ${Object.keys(phases[0] ?? {})
      .map((k) => `${k} ${median(phases.map((p) => p[k] ?? 0))} ms`)
      .join(', ')}`,
  );
  console.log(
    `    seed: build+push :latest+apply ${s.toFixed(0).padStart(6)} ms wall, pushed ${mb(median(seedBytes))}`,
  );
  console.log(
    `    ratio: seed/koala ${(s / a).toFixed(2)}x time; ` +
      `koala rebuilt 0 times, pushed ${median(koalaBytes)} bytes (goal: nothing)`,
  );
  console.log('(b) one-line change to pagerank.py');
  const pushed = median(changeBytes);
  const changeMs = median(changeWall).toFixed(0).padStart(6);
  console.log(`    koala build                 ${changeMs} ms, pushed ${mb(pushed)} (${pushed} bytes)`);
  console.log(`    image size (compressed)     ${mb(imageBytes)}; first push of the image ${mb(coldBytes)}`);
  console.log(
    `    ratio: image/pushed ${(imageBytes / pushed).toFixed(0)}x ` +
      `(pushed is ${((100 * pushed) / imageBytes).toFixed(3)}% of the image)`,
  );
} finally {
  proxy.close();
  spawnSync('docker', ['rm', '-f', '-v', registry], { stdio: 'ignore' });
  const built = spawnSync(
    'docker',
    ['images', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=localhost:${proxy.port}/*`],
    { encoding: 'utf8' },
  )
    .stdout.split('\n')
    .filter(Boolean);
  if (built.length > 0) spawnSync('docker', ['rmi', '-f', ...built], { stdio: 'ignore' });
  bed.stop();
}

/** Config + layers of the image's manifest in the registry: what a full push uploads. */
async function imageSize(image: string): Promise<number> {
  const [repo, tag] = [
    image.slice(image.indexOf('/') + 1, image.lastIndexOf(':')),
    image.slice(image.lastIndexOf(':') + 1),
  ];
  const manifest = (await (
    await fetch(`http://127.0.0.1:${registryPort}/v2/${repo}/manifests/${tag}`, {
      headers: {
        Accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
      },
    })
  ).json()) as { config: { size: number }; layers: Array<{ size: number }> };
  return manifest.config.size + manifest.layers.reduce((n, l) => n + l.size, 0);
}
