import { runTool } from './exec.ts';
import { parseVersion, type SemVer } from './version.ts';

/** kubectl is a prerequisite for users (koala prints kubectl commands), never driven by koala itself. */
export async function kubectlVersion(signal?: AbortSignal): Promise<SemVer | undefined> {
  const { stdout } = await runTool({
    tool: 'kubectl',
    args: ['version', '--client', '-o', 'json'],
    timeoutMs: 15_000,
    ...(signal ? { signal } : {}),
  });
  const parsed = JSON.parse(stdout) as { clientVersion?: { gitVersion?: string } };
  return parseVersion(parsed.clientVersion?.gitVersion ?? '');
}
