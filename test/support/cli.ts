/**
 * Run the built CLI (dist/) as a user would, in a world of its own: a temp project dir,
 * KOALA_HOME, KUBECONFIG, the fake tools first on PATH, and the real helm of the test bed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { REPO } from './testbed.ts';

export interface KoalaResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface Call {
  tool: string;
  argv: string[];
  pid: number;
  at: number;
}

export interface World {
  dir: string;
  project: string;
  state: string;
  env: NodeJS.ProcessEnv;
  calls(): Call[];
  fault(f: {
    tool: string;
    args: string;
    mode?: 'fail' | 'hang' | 'interrupt';
    times?: number;
    stderr?: string;
    delayMs?: number;
    at?: string;
    /** The real tools behind passThrough (test/fakes/lib.mjs): fire when a line contains this. */
    atLine?: string;
    /** passThrough, "fail": the real tool runs to its end, then the call fails. */
    after?: boolean;
    exitCode?: number;
  }): void;
  writeConfig(yaml: string): void;
}

const FAKES = path.join(REPO, 'test/fakes/bin');

/** A fresh world. `fakes` lists the tools replaced by fakes; the others are real. */
export function makeWorld(
  options: { fakes?: Array<'kind' | 'docker' | 'kubectl'>; helm?: 'helm3' | 'helm4'; env?: NodeJS.ProcessEnv } = {},
): World {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-world-'));
  const project = path.join(dir, 'project');
  const state = path.join(dir, 'fake-state');
  mkdirSync(project);
  mkdirSync(state);
  writeFileSync(path.join(project, '.git'), ''); // the project root for koala.yaml lookup
  const fakes = options.fakes ?? ['kind', 'docker', 'kubectl'];
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...options.env,
    KOALA_FAKE_STATE: state,
    KOALA_HOME: path.join(dir, 'koala-home'),
    KOALA_CACHE_DIR: path.join(dir, 'cache'),
    KUBECONFIG: path.join(dir, 'kubeconfig'),
    HOME: dir,
    // HOME moves; the test bed binaries stay where they were built.
    KOALA_TESTBED_CACHE: process.env.KOALA_TESTBED_CACHE ?? path.join(os.homedir(), '.cache', 'koala-testbed'),
    // Pin each tool to a fake or the real one explicitly, whatever PATH holds.
    ...Object.fromEntries(fakes.map((t) => [`KOALA_${t.toUpperCase()}`, path.join(FAKES, t)])),
    KOALA_REAL_KUBECTL: '/usr/bin/kubectl',
    KOALA_HELM: path.join(process.env.KOALA_TESTBED_BIN ?? '', options.helm ?? 'helm4'),
    PATH: `${bin}${path.delimiter}${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH}`,
    FORCE_COLOR: '0',
    CI: 'true',
  };
  delete env.KOALA_CONFIG;
  // The kind stand-in talks to whichever docker koala uses.
  if (!fakes.includes('docker')) delete env.KOALA_DOCKER;
  // With the fake docker, the load balancer is kind's haproxy image, which has no shell.
  else env.KOALA_FAKE_KIND_LB_IMAGE = 'kindest/haproxy:v20230606-42a2262b';
  return {
    dir,
    project,
    state,
    env,
    calls: () => {
      const file = path.join(state, 'calls.jsonl');
      return existsSync(file)
        ? readFileSync(file, 'utf8')
            .trim()
            .split('\n')
            .filter(Boolean)
            .map((l) => JSON.parse(l) as Call)
        : [];
    },
    fault: (f) => {
      const file = path.join(state, 'faults.json');
      const list = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as unknown[]) : [];
      writeFileSync(file, JSON.stringify([...list, f]));
    },
    writeConfig: (yaml) => writeFileSync(path.join(project, 'koala.yaml'), yaml),
  };
}

/** Start koala; resolve when it exits. `onOutput` sees stderr+stdout as they arrive. */
export function startKoala(
  world: World,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): { child: ChildProcess; done: Promise<KoalaResult>; output: () => string } {
  const child = spawn(process.execPath, [path.join(REPO, 'bin/run.js'), ...args], {
    cwd: world.project,
    env: { ...world.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin!.end(options.input ?? '');
  const done = new Promise<KoalaResult>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, done, output: () => stderr + stdout };
}

export async function koala(
  world: World,
  args: string[],
  options: { input?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<KoalaResult> {
  return startKoala(world, args, options).done;
}

const handedOut = new Set<number>();

/**
 * A free TCP port on 127.0.0.1 (for the registry and mapped ports of one test's cluster), never
 * handed out twice in a run. It is drawn below Linux's ephemeral range (32768-60999): a port
 * there, free when drawn, can become the source port of one of the many connections a test
 * makes to its API server, and the cluster's bind of it then fails.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 20000 + randomInt(12000);
    if (handedOut.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once('error', () => resolve(false));
      server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
    });
    if (free) {
      handedOut.add(port);
      return port;
    }
  }
}

/** Tool calls that change something (the rest only read). */
export function mutatingCalls(calls: Call[]): Call[] {
  return calls.filter((c) => {
    const line = c.argv.join(' ');
    if (c.tool === 'kind') return /^(create|delete|load)\b/.test(line);
    if (c.tool === 'docker')
      return (
        /^(run|start|stop|rm|network (connect|create|disconnect)|volume (rm|create)|build|push|tag)\b/.test(line) ||
        (/^exec\b/.test(line) && c.argv.includes('-i'))
      );
    return false;
  });
}

export async function waitForOutput(get: () => string, pattern: RegExp, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pattern.test(get())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in:\n${get()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** koala.yaml's `ports:` section with a free host port for each mapped service. */
export async function hostPortsYaml(): Promise<string[]> {
  return [
    'ports:',
    `  airflow: ${await freePort()}`,
    `  objectStore: ${await freePort()}`,
    `  objectStoreConsole: ${await freePort()}`,
    `  gateway: ${await freePort()}`,
  ];
}
