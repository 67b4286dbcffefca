import { execFileSync } from 'node:child_process';
import { freePort } from './cli.ts';

/**
 * A real registry (koala-test/registry:3) on a free port of the default Docker daemon, for the
 * tests that build and push; `stop` removes it and every image built for it, leaving the daemon
 * as it was found. In CI a missing Docker or image fails the test: nothing here skips.
 */
export interface TestRegistry {
  port: number;
  stop(): void;
}

const docker = (args: string[]): string =>
  execFileSync('docker', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

export async function startRegistry(name: string, images: string[] = []): Promise<TestRegistry> {
  docker(['image', 'inspect', 'koala-test/registry:3', ...images]);
  const port = await freePort();
  docker(['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:5000`, 'koala-test/registry:3']);
  for (let i = 0; i < 100; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/v2/`).then(
      (r) => r.ok,
      () => false,
    );
    if (up) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    stop() {
      docker(['rm', '-f', '-v', name]);
      const built = docker([
        'images',
        '--format',
        '{{.Repository}}:{{.Tag}}',
        '--filter',
        `reference=localhost:${port}/*`,
      ])
        .split('\n')
        .filter(Boolean);
      if (built.length > 0) docker(['rmi', '-f', ...built]);
    },
  };
}
