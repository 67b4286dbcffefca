#!/usr/bin/env node
// koala's entry point. Node's compile cache makes the second and later starts faster.
import module from 'node:module';

// Checked before anything else loads: koala's dependencies use what older Node lacks (Set
// methods, newer built-ins) and fail with errors that name none of it. Keep in step with
// package.json's engines (a unit test compares them).
const MIN_NODE = [22, 13];
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
  process.stderr.write(
    `Error: koala needs Node.js ${MIN_NODE.join('.')} or newer; ` +
      `this is Node.js ${process.versions.node} (${process.execPath}).\n` +
      '→ Run koala through bin/koala (it fetches Node 24 into ~/.cache/koala-node when the system Node is older), ' +
      `or install Node.js ${MIN_NODE.join('.')} or newer (https://nodejs.org) and run the command again.\n`,
  );
  process.exit(1);
}
module.enableCompileCache?.();
const args = process.argv.slice(2);
// The questions new users ask most need no framework (src/cli/root-help.ts, src/cli/command-help.ts).
const fast = !process.env.KOALA_NO_FAST_PATHS;
if (fast && args.length === 1 && args[0] === '--version') {
  const { readFileSync } = await import('node:fs');
  const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  process.stdout.write(`koala/${version} ${process.platform}-${process.arch} node-${process.version}\n`);
} else if (fast && (args.length === 0 || (args.length === 1 && args[0] === '--help'))) {
  const { printRootHelp } = await import('../dist/root-help.js');
  printRootHelp(new URL('../', import.meta.url));
} else if (
  fast &&
  args.length > 1 &&
  args.at(-1) === '--help' &&
  args.slice(0, -1).every((a) => /^[a-z][\w-]*$/.test(a))
) {
  // `koala <command> --help`: the command's page from the manifest (src/cli/command-help.ts).
  const { printCommandHelp } = await import('../dist/command-help.js');
  if (!printCommandHelp(new URL('../', import.meta.url), args.slice(0, -1))) await runOclif();
} else {
  await runOclif();
}

async function runOclif() {
  const { execute } = await import('../dist/cli.js');
  await execute({ dir: import.meta.url });
}
