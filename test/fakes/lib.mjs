// Shared plumbing of koala's fake tools (kind, docker, kubectl): where their state lives,
// how each call is recorded, and how tests inject faults.
//
// KOALA_FAKE_STATE  directory for state, calls.jsonl and faults.json (required)
//
// faults.json: [{ "tool": "kind", "args": "create cluster", "mode": "fail" | "hang" | "interrupt", "times": 1,
//                 "stderr": "...", "exitCode": 1, "delayMs": 0 }]
// A fault matches when the call's argv, joined by spaces, starts with `args`. "times" counts
// down (absent = every time). "delayMs" alone (no mode) just slows the call, for benchmarks.
// The real tools behind passThrough() also take "atLine" (the fault fires delayMs after the
// tool prints a line containing it) and, for "fail", "after" (the real tool runs to its end,
// then the call fails anyway, as `docker run` does when it made the container but could not
// start it).
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export function stateDir() {
  const dir = process.env.KOALA_FAKE_STATE;
  if (!dir) {
    process.stderr.write('fake tool: KOALA_FAKE_STATE is not set\n');
    process.exit(99);
  }
  mkdirSync(dir, { recursive: true });
  return dir;
}

export function record(tool, argv, extra = {}) {
  appendFileSync(
    path.join(stateDir(), 'calls.jsonl'),
    `${JSON.stringify({ tool, argv, pid: process.pid, at: Date.now(), ...extra })}\n`,
  );
}

export function readJson(file, fallback) {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return fallback;
  }
}

/** Atomic write: concurrent calls (koala runs steps in parallel) never see half a file. */
export function writeJson(file, value) {
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`);
  renameSync(tmp, file);
}

/** The first fault that matches this call, consumed when it has a count. */
export function takeFault(tool, argv) {
  const file = path.join(stateDir(), 'faults.json');
  if (!existsSync(file)) return undefined;
  const faults = readJson(file, []);
  const line = argv.join(' ');
  const index = faults.findIndex(
    (f) => f.tool === tool && line.startsWith(f.args) && (f.times === undefined || f.times > 0),
  );
  if (index < 0) return undefined;
  const fault = faults[index];
  if (fault.times !== undefined) {
    fault.times -= 1;
    writeJson(file, faults);
  }
  return fault;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Apply a fault's effect. "hang" waits until the process is killed, as a stuck tool would. */
export async function applyFault(fault) {
  if (!fault) return;
  if (fault.delayMs) await sleep(fault.delayMs);
  if (fault.mode === 'fail') {
    process.stderr.write(`${fault.stderr ?? 'ERROR: injected failure'}\n`);
    process.exit(fault.exitCode ?? 1);
  }
  if (fault.mode === 'interrupt') {
    // Ctrl-C reaches koala (this tool's parent) while the tool is at work; the tool goes on
    // until koala stops it, so what it leaves behind depends on where the signal finds it.
    process.kill(process.ppid, 'SIGINT');
    return;
  }
  if (fault.mode === 'hang') {
    await new Promise(() => setInterval(() => {}, 1 << 30));
  }
}

/** Parse `--flag value` / `--flag=value` pairs after the subcommand words. */
export function parseFlags(args) {
  const flags = {};
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
      else if (i + 1 < args.length && (!args[i + 1].startsWith('-') || args[i + 1] === '-'))
        flags[a.slice(2)] = args[++i];
      else flags[a.slice(2)] = true;
    } else rest.push(a);
  }
  return { flags, rest };
}

/**
 * Run the real tool at `real` with this call's argv, recorded and with the fault switch on
 * (`words`: what a fault's "args" is matched against). "fail" exits with the fault's stderr
 * before the real tool runs, or, with "atLine", kills it there (SIGKILL, a crash that leaves
 * its work half done), or, with "after", once it has finished. "interrupt" sends SIGINT to the
 * parent (koala) while the real tool works on. SIGINT and SIGTERM reach the real tool, so a
 * stopped call stops for real. `failure`: the stderr of a "fail" fault that names none. Never
 * returns: the process exits with the real tool.
 */
export async function passThrough(tool, real, argv, words = argv, failure = 'ERROR: injected failure') {
  record(tool, argv);
  const fault = takeFault(tool, words);
  if (fault?.mode === 'fail' && !fault.atLine && !fault.after) {
    if (fault.delayMs) await sleep(fault.delayMs);
    process.stderr.write(`${fault.stderr ?? failure}\n`);
    process.exit(fault.exitCode ?? 1);
  }
  const watch = Boolean(fault?.atLine);
  const child = spawn(real, argv, { stdio: watch ? ['inherit', 'pipe', 'pipe'] : 'inherit' });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  let failed = false;
  let interrupted = false;
  const fire = () => {
    setTimeout(() => {
      if (fault.mode === 'interrupt' && !interrupted) {
        interrupted = true;
        process.kill(process.ppid, 'SIGINT');
      }
      if (fault.mode === 'fail') {
        failed = true;
        child.kill('SIGKILL');
      }
    }, fault.delayMs ?? 0);
  };
  if (watch) {
    let fired = false;
    for (const [from, to] of [
      [child.stdout, process.stdout],
      [child.stderr, process.stderr],
    ]) {
      from.on('data', (chunk) => {
        to.write(chunk);
        if (!fired && chunk.toString().includes(fault.atLine)) {
          fired = true;
          fire();
        }
      });
    }
  } else if (fault?.mode === 'interrupt') fire();
  // A crash ends the call at once (children of the killed tool may keep its pipes open).
  child.on('exit', () => {
    if (!failed) return;
    process.stderr.write(`${fault.stderr ?? failure}\n`);
    process.exit(fault.exitCode ?? 1);
  });
  // 'close': after the piped output is through.
  child.on('close', async (code, signal) => {
    // A tool quicker than the fault's delay: Ctrl-C as it ends, before koala hears of its end, so
    // the point still stops koala inside the step (the tool's work done, the step not recorded).
    if (fault?.mode === 'interrupt' && !interrupted && !watch) {
      interrupted = true;
      process.kill(process.ppid, 'SIGINT');
      await sleep(500);
    }
    if (fault?.mode === 'fail' && fault.after) {
      process.stderr.write(`${fault.stderr ?? failure}\n`);
      process.exit(fault.exitCode ?? 1);
    }
    process.exit(code ?? (signal ? 128 + 15 : 1));
  });
  return new Promise(() => {});
}
