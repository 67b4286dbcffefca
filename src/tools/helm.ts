import { runTool } from './exec.ts';
import { parseVersion, type SemVer } from './version.ts';

/** helm, through its CLI. Helm 3 and Helm 4 differ in flags; koala detects which one it has. */

export async function helmVersion(signal?: AbortSignal): Promise<SemVer | undefined> {
  const { stdout } = await runTool({ tool: 'helm', args: ['version', '--template', '{{.Version}}'], timeoutMs: 15_000, ...(signal ? { signal } : {}) });
  return parseVersion(stdout);
}
