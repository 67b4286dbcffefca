#!/usr/bin/env node
// koala's entry point. Node's compile cache makes the second and later starts faster.
import module from 'node:module';

module.enableCompileCache?.();
const args = process.argv.slice(2);
if (args.length === 1 && args[0] === '--version') {
  // The most frequent question needs no framework: answer it the way oclif would.
  const { readFileSync } = await import('node:fs');
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`koala/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else {
  const { execute } = await import('../dist/cli.js');
  await execute({ dir: import.meta.url });
}
