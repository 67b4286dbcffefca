// Builds dist/ with esbuild: the CLI entry and the command table, sharing one chunk of
// @oclif/core. Bundling oclif is what keeps `koala --help` fast (its hundreds of small files
// dominate start-up); heavy libraries stay external and are imported only by the commands
// that use them.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
rmSync(path.join(root, 'dist'), { recursive: true, force: true });

// typescript: oclif requires it only to run commands from .ts sources in development.
// @kubernetes/client-node is bundled into its own lazily imported chunk: loading its ~1,500
// modules from node_modules took 0.6-1 s per command that talks to Kubernetes; one chunk takes
// ~0.2 s (measured with `koala run`).
const external = ['typescript', 'listr2', '@inquirer/prompts', 'execa', 'js-yaml', 'yaml', 'dotenv'];

await build({
  absWorkingDir: root,
  entryPoints: {
    cli: 'src/cli.ts',
    commands: 'src/commands.ts',
    help: 'src/cli/help.ts',
    'not-found': 'src/cli/not-found.ts',
  },
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  external,
  sourcemap: 'linked',
  minify: process.env.KOALA_BUILD_MINIFY !== '0',
  chunkNames: 'chunks/[name]-[hash]',
  // Bundled CommonJS dependencies of oclif call require(); give them one.
  banner: {
    js:
      "import { createRequire as __koalaCreateRequire } from 'node:module'; " +
      'const require = __koalaCreateRequire(import.meta.url);',
  },
  logLevel: 'warning',
});

// The fast help pages (bin/run.js), each one self-contained file: every extra module a start
// loads costs milliseconds, and these pages are measured against a bare `node` start.
await build({
  absWorkingDir: root,
  entryPoints: { 'root-help': 'src/cli/root-help.ts', 'command-help': 'src/cli/command-help.ts' },
  outdir: 'dist',
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  sourcemap: 'linked',
  minify: process.env.KOALA_BUILD_MINIFY !== '0',
  logLevel: 'warning',
});

// The manifest lets oclif list commands and render help without importing them.
execFileSync(process.execPath, [path.join(root, 'node_modules/oclif/bin/run.js'), 'manifest'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
