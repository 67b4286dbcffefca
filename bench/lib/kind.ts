import { execFileSync } from 'node:child_process';

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
