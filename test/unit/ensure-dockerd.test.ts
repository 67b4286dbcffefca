import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/docker/ensure-dockerd.sh');

// A dockerd stand-in: a process named dockerd (a bash script's name is its process name) that
// records its arguments, writes its --pidfile and, after FAKE_DOCKERD_DELAY seconds, listens on
// its -H socket. The docker stand-in's `info` succeeds when DOCKER_HOST's socket accepts.
const FAKE_DOCKERD = `#!/bin/bash
echo "$*" >> "$FAKE_DIR/dockerd-starts"
sock=; pidfile=; prev=
for a in "$@"; do
  case $prev in -H | --host) sock=\${a#unix://} ;; esac
  case $a in --host=*) sock=\${a#--host=unix://} ;; --pidfile=*) pidfile=\${a#--pidfile=} ;; esac
  prev=$a
done
# Never the machine's own socket or pid file: only paths in the test's directory.
case "$sock:$pidfile" in
  "$FAKE_DIR"/*:"$FAKE_DIR"/*) ;;
  *) echo "fake dockerd: $sock $pidfile outside $FAKE_DIR" >&2; exit 1 ;;
esac
echo $$ > "$pidfile"
sleep "\${FAKE_DOCKERD_DELAY:-0}"
python3 -c 'import os, socket, sys
p = sys.argv[1]
os.path.exists(p) and os.unlink(p)
s = socket.socket(socket.AF_UNIX); s.bind(p); s.listen(16)
while True: s.accept()[0].close()' "$sock" &
wait
`;
const FAKE_DOCKER = `#!/bin/bash
[ "$1" = info ] || exit 64
python3 -c 'import socket, sys
socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "\${DOCKER_HOST#unix://}" 2>/dev/null || exit 1
case "$*" in *--format*) echo "fake-25.0 vfs" ;; esac
`;

const groups: number[] = [];
afterEach(() => {
  for (const pgid of groups.splice(0)) {
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
});

function bed() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-dockerd-'));
  const bin = path.join(dir, 'bin');
  execFileSync('mkdir', ['-p', bin, path.join(dir, 'data')]);
  writeFileSync(path.join(bin, 'dockerd'), FAKE_DOCKERD);
  writeFileSync(path.join(bin, 'docker'), FAKE_DOCKER);
  chmodSync(path.join(bin, 'dockerd'), 0o755);
  chmodSync(path.join(bin, 'docker'), 0o755);
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    FAKE_DIR: dir,
    KOALA_DOCKERD_SOCKET: path.join(dir, 'docker.sock'),
    KOALA_DOCKERD_PIDFILE: path.join(dir, 'docker.pid'),
    KOALA_DOCKERD_DATA_ROOT: path.join(dir, 'data'),
    KOALA_DOCKERD_LOG: path.join(dir, 'dockerd.log'),
    KOALA_DOCKER_STORAGE_DRIVER: 'vfs',
    KOALA_DOCKERD_IPTABLES: 'false',
    KOALA_DOCKERD_TIMEOUT: '20',
    DOCKER_HOST: 'unix:///nonexistent/elsewhere.sock', // the script must ask its own socket
  };
  /** A daemon the test starts itself, detached, as another script would. */
  const daemon = (args: string[], extra: Record<string, string> = {}): void => {
    const child = spawn(path.join(bin, 'dockerd'), args, {
      env: { ...env, ...extra },
      detached: true,
      stdio: 'ignore',
    });
    groups.push(child.pid!);
    child.unref();
  };
  const run = () => {
    const started = Date.now();
    const result = spawnSync('bash', [SCRIPT], { env, encoding: 'utf8', timeout: 60_000 });
    // The daemon the script started, if any: its pid file names it; setsid made it a group leader.
    if (existsSync(env.KOALA_DOCKERD_PIDFILE)) groups.push(Number(readFileSync(env.KOALA_DOCKERD_PIDFILE, 'utf8')));
    return { ...result, seconds: (Date.now() - started) / 1000 };
  };
  const starts = (): string[] =>
    existsSync(path.join(dir, 'dockerd-starts'))
      ? readFileSync(path.join(dir, 'dockerd-starts'), 'utf8').trim().split('\n')
      : [];
  return { dir, env, daemon, run, starts };
}

const root = process.getuid?.() === 0;

// Starting a daemon needs root (the script refuses otherwise); CI runs as root, so there it runs.
describe.skipIf(!root && !process.env.CI)('scripts/docker/ensure-dockerd.sh', { timeout: 90_000 }, () => {
  it('a second daemon on its own socket is not taken for the daemon: it starts one on its socket at once', async () => {
    const b = bed();
    b.daemon(['-H', `unix://${path.join(b.dir, 'other.sock')}`, `--pidfile=${path.join(b.dir, 'other.pid')}`]);
    await new Promise((r) => setTimeout(r, 500));
    const result = b.run();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/starting dockerd on .*docker\.sock/);
    expect(result.stderr).toMatch(/dockerd is up on .*docker\.sock \(fake-25\.0 vfs\)/);
    expect(result.seconds).toBeLessThan(15);
    const ours = b.starts().filter((s) => s.includes(`-H unix://${b.env.KOALA_DOCKERD_SOCKET}`));
    expect(ours).toHaveLength(1);
    expect(ours[0]).toContain(`--data-root=${b.env.KOALA_DOCKERD_DATA_ROOT}`);
  });

  it('a daemon for its socket still starting (another --pidfile) is waited for, not started twice', async () => {
    const b = bed();
    b.daemon(['--host', `unix://${b.env.KOALA_DOCKERD_SOCKET}`, `--pidfile=${path.join(b.dir, 'elsewhere.pid')}`], {
      FAKE_DOCKERD_DELAY: '3',
    });
    await new Promise((r) => setTimeout(r, 500));
    const result = b.run();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/dockerd for .*docker\.sock already running \(pid \d+\); waiting for it/);
    expect(b.starts()).toHaveLength(1); // only the test's own
  });

  it('a daemon that answers on its socket is left alone', async () => {
    const b = bed();
    b.daemon(['-H', `unix://${b.env.KOALA_DOCKERD_SOCKET}`, `--pidfile=${b.env.KOALA_DOCKERD_PIDFILE}`]);
    await new Promise((r) => setTimeout(r, 1000));
    const result = b.run();
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toBe('');
    expect(b.starts()).toHaveLength(1);
  });
});
