#!/usr/bin/env node
// koala's entry point. Node's compile cache makes the second and later starts faster.
import module from 'node:module';

module.enableCompileCache?.();
const { execute } = await import('../dist/cli.js');
await execute({ dir: import.meta.url });
