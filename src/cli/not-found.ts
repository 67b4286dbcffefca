/**
 * oclif's command_not_found hook: `koala upp` says "did you mean up?", as oclif's not-found plugin
 * does, without asking (scripts and CI have no one to answer) and with koala's exit code for bad
 * input. A hook of koala's own keeps the plugin's dependencies out of every start.
 */
import type { Hook } from '@oclif/core';

export function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The nearest command or topic, when it is near enough to be what was meant. */
export function nearest(wanted: string, candidates: readonly string[]): string | undefined {
  let best: { id: string; d: number } | undefined;
  for (const id of candidates) {
    const d = distance(wanted, id);
    if (!best || d < best.d) best = { id, d };
  }
  return best && best.d <= Math.max(2, Math.floor(wanted.length / 3)) ? best.id : undefined;
}

const hook: Hook.CommandNotFound = async function (options) {
  const bin = options.config.bin;
  const ids = [...options.config.commandIDs, ...options.config.topics.map((t) => t.name)];
  const wanted = options.id.replaceAll(':', ' ');
  const suggestion = nearest(options.id, ids)?.replaceAll(':', ' ');
  const didYouMean = suggestion ? ` Did you mean ${suggestion}?` : '';
  const thatOne = suggestion ? ` (\`${bin} ${suggestion} --help\` for that one)` : '';
  process.stderr.write(
    `Error: ${bin} ${wanted} is not a ${bin} command.${didYouMean}\n` +
      `→ Run \`${bin} --help\` for the list of commands${thatOne}; nothing was changed.\n`,
  );
  process.exit(2);
};

export default hook;
