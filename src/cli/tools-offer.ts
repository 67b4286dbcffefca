/**
 * The pinned tools, from a command: downloads with progress on stderr, and the offer `up` and
 * `doctor` make when kind, helm or kubectl is missing or too old.
 */
import type { KoalaConfig } from '../config/schema.ts';
import type { Installed } from '../tools/install.ts';
import type { PinnedTool } from '../tools/pins.ts';

export async function installWithProgress(
  tools: PinnedTool[],
  source: KoalaConfig['tools'],
  options: { signal?: AbortSignal; dir?: string } = {},
): Promise<Installed[]> {
  const { installTools } = await import('../tools/install.ts');
  const tty = process.stderr.isTTY === true;
  const shown = new Map<PinnedTool, number>();
  const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`;
  try {
    return await installTools(tools, {
      mirror: source.mirror,
      sha256: source.sha256,
      ...options,
      onProgress: (tool, received, total) => {
        const percent = total ? Math.floor((received / total) * 100) : undefined;
        const line = `Downloading ${tool}: ${mb(received)}${total ? ` of ${mb(total)} (${percent}%)` : ''}`;
        if (tty) process.stderr.write(`\r${line}\u001b[K${received === total ? '\n' : ''}`);
        else {
          // A line per quarter: logs stay short.
          const step = percent === undefined ? 0 : Math.floor(percent / 25);
          if (shown.get(tool) !== step) process.stderr.write(`${line}\n`);
          shown.set(tool, step);
        }
      },
    });
  } finally {
    if (tty) process.stderr.write('\u001b[K');
  }
}

/**
 * Offers the pinned copies of the tools that are missing or too old: with `yes` at once, in a
 * terminal after asking, otherwise not (preflight then says what to run). Returns what it installed.
 */
export async function offerTools(
  config: KoalaConfig,
  options: { yes: boolean; signal?: AbortSignal; log: (line: string) => void },
): Promise<Installed[]> {
  const { toolsNeeded } = await import('../cluster/preflight.ts');
  // A cluster koala did not create needs no kind.
  const needed = await toolsNeeded({ kind: !config.cluster.context });
  if (needed.length === 0) return [];
  const { TOOL_PINS } = await import('../tools/pins.ts');
  const { toolsBinDir } = await import('../tools/exec.ts');
  const what = needed.map((n) => `${n.tool} ${TOOL_PINS[n.tool].version} (${n.reason})`).join(', ');
  if (!options.yes) {
    if (!process.stdin.isTTY || !process.stderr.isTTY) return [];
    const { confirm } = await import('@inquirer/prompts');
    const ok = await confirm(
      { message: `Fetch ${what} into ${toolsBinDir()}?`, default: true },
      { output: process.stderr, ...(options.signal ? { signal: options.signal } : {}) },
    );
    if (!ok) return [];
  } else options.log(`Fetching ${what} into ${toolsBinDir()}.`);
  return installWithProgress(
    needed.map((n) => n.tool),
    config.tools,
    options.signal ? { signal: options.signal } : {},
  );
}
