#!/usr/bin/env node
// koala's entry point. Node's compile cache makes the second and later starts faster.
import module from 'node:module';

module.enableCompileCache?.();
const args = process.argv.slice(2);
// The two questions new users ask most need no framework (see src/cli/root-help.ts).
const fast = !process.env.KOALA_NO_FAST_PATHS;
if (fast && args.length === 1 && args[0] === '--version') {
  const { readFileSync } = await import('node:fs');
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`koala/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else if (fast && (args.length === 0 || (args.length === 1 && args[0] === '--help'))) {
  const { printRootHelp } = await import('../dist/root-help.js');
  printRootHelp(new URL('../', import.meta.url));
} else {
  const { execute } = await import('../dist/cli.js');
  await execute({ dir: import.meta.url });
}
