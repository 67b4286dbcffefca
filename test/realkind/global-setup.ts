/**
 * The real-kind tier needs the kind Docker daemon (scripts/docker/ensure-kind-dockerd.sh), the
 * test node and load balancer images (scripts/testbed/build-kind-node.sh), the real kind, the
 * platform's images (scripts/testbed/build-platform-images.sh) and the local test images in that
 * daemon; scripts/test.sh prepares them. This only checks, and hands
 * the tests where things are. With CI=true anything missing fails the run; otherwise the tier is
 * skipped with the reason.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

const REPO = path.resolve(import.meta.dirname, '../..');

export default function setup(): void {
  const sh = (script: string, ...args: string[]): { ok: boolean; out: string } => {
    const r = spawnSync('bash', [path.join(REPO, script), ...args], { encoding: 'utf8', env: process.env });
    return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
  };
  const missing: string[] = [];
  const dockerHost = sh('scripts/docker/ensure-kind-dockerd.sh', '--host').out;
  const env = { ...process.env, DOCKER_HOST: dockerHost };
  const docker = (...args: string[]): boolean => spawnSync('docker', args, { env, stdio: 'ignore' }).status === 0;
  if (!docker('info')) missing.push(`no kind Docker daemon on ${dockerHost} (scripts/docker/ensure-kind-dockerd.sh)`);
  else {
    if (!sh('scripts/testbed/build-kind-node.sh', '--check').ok)
      missing.push('the test node image (scripts/testbed/build-kind-node.sh)');
    if (!sh('scripts/testbed/build-platform-images.sh', '--check').ok)
      missing.push("the platform's images (scripts/testbed/build-platform-images.sh)");
    if (process.env.KOALA_TEST_PLATFORM_FULL && !sh('scripts/testbed/build-airflow-images.sh', '--check').ok)
      missing.push("Airflow's images (scripts/testbed/build-airflow-images.sh)");
    if (!docker('image', 'inspect', 'koala-test/base:1', 'koala-test/registry:3', 'koala-test/devcontainer:1')) {
      missing.push(
        'koala-test/base:1, koala-test/registry:3 and koala-test/devcontainer:1 in that daemon ' +
          `(DOCKER_HOST=${dockerHost} scripts/docker/base-image.sh base registry devcontainer)`,
      );
    }
  }
  const kind = sh('scripts/testbed/build-kind.sh', '--print-bin').out;
  if (spawnSync(kind, ['version'], { stdio: 'ignore' }).status !== 0)
    missing.push(`the real kind at ${kind} (scripts/testbed/build-kind.sh)`);
  if (missing.length > 0) {
    const reason = `real-kind tier not prepared: ${missing.join('; ')}`;
    if (process.env.CI === 'true') throw new Error(reason);
    process.env.KOALA_REALKIND_SKIP = reason;
    return;
  }
  // koala's preflight wants a helm even with the components off: the test bed's.
  process.env.KOALA_TESTBED_BIN ??= execFileSync('bash', [path.join(REPO, 'scripts/testbed/env.sh')], {
    encoding: 'utf8',
  }).trim();
  process.env.KOALA_REALKIND_DOCKER_HOST = dockerHost;
  // image key (koala.yaml's images.<key>) -> the local image built for it
  process.env.KOALA_PLATFORM_IMAGES = JSON.stringify(printedImages('scripts/testbed/build-platform-images.sh'));
  if (process.env.KOALA_TEST_PLATFORM_FULL)
    process.env.KOALA_AIRFLOW_IMAGES = JSON.stringify(printedImages('scripts/testbed/build-airflow-images.sh'));
  process.env.KOALA_REALKIND_KIND = kind;
  process.env.KOALA_REALKIND_NODE_IMAGE = sh('scripts/testbed/build-kind-node.sh', '--print-image').out;
  process.env.KOALA_REALKIND_KUBECTL = execFileSync(
    'bash',
    [path.join(REPO, 'scripts/testbed/build-kind-node.sh'), '--print-kubectl'],
    { encoding: 'utf8' },
  ).trim();
}

/** The KEY=image lines an image build script prints with --print. */
function printedImages(script: string): Record<string, string> {
  return Object.fromEntries(
    execFileSync('bash', [path.join(REPO, script), '--print'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => line.split('=', 2)),
  );
}
