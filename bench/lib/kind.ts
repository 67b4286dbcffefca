import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';

/** MiB used by a kind cluster's node containers, as `docker stats` reports them (0 without any). */
export function clusterMemMiB(cluster: string, env: NodeJS.ProcessEnv): number {
  const ids = execFileSync('docker', ['ps', '-q', '--filter', `label=io.x-k8s.kind.cluster=${cluster}`], {
    encoding: 'utf8',
    env,
  })
    .split('\n')
    .filter(Boolean);
  if (ids.length === 0) return 0;
  const unit: Record<string, number> = { KiB: 1 / 1024, MiB: 1, GiB: 1024 };
  return Math.round(
    execFileSync('docker', ['stats', '--no-stream', '--format', '{{.MemUsage}}', ...ids], { encoding: 'utf8', env })
      .split('\n')
      .reduce((sum, line) => {
        const m = /^([\d.]+)(KiB|MiB|GiB)/.exec(line);
        return sum + (m ? Number(m[1]) * unit[m[2]!]! : 0);
      }, 0),
  );
}

/**
 * The real-kind benches' setup: the test bed's binaries, kind's Docker daemon (started when it
 * is down, with the inotify limits multi-node kind needs), and whether the scripts' images are
 * built (`ready`: each script's --check).
 */
export function realKindBench(...needs: string[]): {
  sh: (script: string, ...args: string[]) => string;
  dockerHost: string;
  dockerEnv: NodeJS.ProcessEnv;
  ready: boolean;
} {
  const repo = path.resolve(import.meta.dirname, '../..');
  const sh = (script: string, ...args: string[]): string =>
    execFileSync('bash', [path.join(repo, script), ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  process.env.KOALA_TESTBED_BIN ??= sh('scripts/testbed/env.sh');
  sh('scripts/docker/ensure-kind-dockerd.sh');
  const dockerHost = sh('scripts/docker/ensure-kind-dockerd.sh', '--host');
  const dockerEnv = { ...process.env, DOCKER_HOST: dockerHost };
  const ready = needs.every(
    (script) =>
      spawnSync('bash', [path.join(repo, script), '--check'], { env: dockerEnv, stdio: 'ignore' }).status === 0,
  );
  return { sh, dockerHost, dockerEnv, ready };
}
