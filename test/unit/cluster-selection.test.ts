import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// eslint-disable-next-line no-restricted-imports -- the test parses argv as each command does; oclif stays out of src/
import { Parser } from '@oclif/core';
import { describe, expect, it } from 'vitest';
import { clusterFlags, clusterSelection } from '../../src/cli/cluster-flag.ts';
import { KoalaCommand } from '../../src/cli/base.ts';
import { COMMANDS } from '../../src/commands.ts';
import { loadConfig } from '../../src/config/load.ts';
import { clusterSpec, resolveNodeImage } from '../../src/cluster/spec.ts';
import { createPlatformContext } from '../../src/orchestration/context.ts';

/** Commands that act on no cluster: scaffolding, tool downloads and shell completion work on the machine alone. */
const NO_CLUSTER = ['new:spark-app', 'new:task', 'new:pipeline', 'init', 'tools:install', 'autocomplete'];
const CLUSTER_COMMANDS = Object.entries(COMMANDS).filter(([id]) => !NO_CLUSTER.includes(id));

function project(yaml?: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-selection-'));
  writeFileSync(path.join(dir, '.git'), '');
  if (yaml) writeFileSync(path.join(dir, 'koala.yaml'), yaml);
  return dir;
}

/** What a command would act on: its own flag parsing, then the config loader every command uses. */
type AnyCommand = (typeof COMMANDS)[keyof typeof COMMANDS];

async function selected(command: AnyCommand, argv: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const args = Object.fromEntries(Object.entries(command.args ?? {}).map(([k, a]) => [k, { ...a, required: false }]));
  // Typed as the shared flags: the parse must find them among the command's own (strict: no others).
  // Required flags (logs --step) are not what is tested here.
  const flags_ = Object.fromEntries(
    Object.entries({ ...KoalaCommand.baseFlags, ...command.flags }).map(([k, f]) => [k, { ...f, required: false }]),
  );
  const all = flags_ as typeof KoalaCommand.baseFlags & typeof clusterFlags;
  const { flags } = await Parser.parse(argv, { flags: all, args, strict: true });
  const loaded = await loadConfig({ cwd, processEnv: env, flags: clusterSelection(flags) });
  const { config } = loaded;
  // The context every command builds (up and status alike): the kube context and state directory.
  const spec = clusterSpec(config, resolveNodeImage(config.cluster, undefined));
  const ctx = createPlatformContext({ config, env: loaded.env, spec, processEnv: { KOALA_HOME: '/koala-home' } });
  return { name: ctx.spec.name, context: ctx.kubeTarget.context, home: ctx.home };
}

describe('the command list', () => {
  it('registers every command file under src/commands (oclif finds commands only through it)', () => {
    const root = path.join(import.meta.dirname, '../../src/commands');
    const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replace(/\.ts$/, '').split(path.sep).join(':'))
      .sort();
    expect(Object.keys(COMMANDS).sort()).toEqual(files);
  });
});

describe('one cluster selection for every command that acts on a cluster', () => {
  it.each(CLUSTER_COMMANDS)('%s takes the shared --name flag', (_id, command) => {
    expect((command.flags as Record<string, unknown>).name).toBe(clusterFlags.name);
  });

  it('commands that act on no cluster do not take it', () => {
    for (const id of NO_CLUSTER) {
      expect(Object.keys(COMMANDS[id as keyof typeof COMMANDS].flags ?? {})).not.toContain('name');
    }
  });

  const CASES: Array<[string, string[], NodeJS.ProcessEnv, string | undefined, string]> = [
    ['nothing set: the default', [], {}, undefined, 'koala'],
    ['koala.yaml', [], {}, 'cluster:\n  name: from-yaml\n', 'from-yaml'],
    ['environment over file', [], { KOALA_CLUSTER_NAME: 'from-env' }, 'cluster:\n  name: from-yaml\n', 'from-env'],
    ['--name over both', ['--name', 'dev'], { KOALA_CLUSTER_NAME: 'from-env' }, 'cluster:\n  name: from-yaml\n', 'dev'],
  ];
  it.each(CASES)('%s: every command picks the same cluster, context and state', async (_t, argv, env, yaml, want) => {
    const cwd = project(yaml);
    for (const [id, command] of CLUSTER_COMMANDS) {
      const got = await selected(command, argv, cwd, env);
      const home = path.join('/koala-home', 'clusters', want);
      expect({ id, ...got }).toEqual({ id, name: want, context: `kind-${want}`, home });
    }
  });

  it('a name kind would refuse is bad input for every command: exit 2, the flag and the rule', async () => {
    const cwd = project();
    for (const [, command] of CLUSTER_COMMANDS) {
      const error = await selected(command, ['--name', 'My_Cluster'], cwd, {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Error);
      expect((error as { exitCode?: number }).exitCode).toBe(2);
      const rule = 'accepted: a kind cluster name: lowercase letters, digits, "-" and ".", each part starting';
      expect((error as Error).message).toContain(`flag --name: cluster.name: "My_Cluster" is not valid (${rule}`);
    }
  });
});
