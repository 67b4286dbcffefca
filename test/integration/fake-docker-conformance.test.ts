/**
 * The fake docker of the process tests must answer like the real one. The same commands run
 * against the real Docker daemon and the fake, and their exit codes and outputs are compared
 * (normalised for ids): the commands koala issues, their success and their failure modes.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/cli.ts';
import { REPO } from '../support/testbed.ts';

const FAKE = path.join(REPO, 'test/fakes/bin/docker');
const fakeState = mkdtempSync(path.join(os.tmpdir(), 'koala-fake-docker-'));

interface Answer {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(which: 'real' | 'fake', args: string[], input?: string): Answer {
  const [file, argv] = which === 'real' ? ['docker', args] : [process.execPath, [FAKE, ...args]];
  const r = spawnSync(file, argv, {
    encoding: 'utf8',
    input: input ?? '',
    env: { ...process.env, KOALA_FAKE_STATE: fakeState },
  });
  return { code: r.status, stdout: normalise(r.stdout), stderr: normalise(r.stderr) };
}

/** Ids differ between the two; the first line of an error is what callers match on. */
function normalise(text: string): string {
  return text
    .replace(/\b[0-9a-f]{64}\b/g, '<id>')
    .replace(/\b[0-9a-f]{12}\b/g, '<id>')
    .split('\n')[0]!
    .trim();
}

function both(args: string[], input?: string): { real: Answer; fake: Answer } {
  return { real: run('real', args, input), fake: run('fake', args, input) };
}

const suffix = randomBytes(3).toString('hex');
const container = `koala-conf-${suffix}`;
const volume = `koala-conf-${suffix}-data`;
const network = `koala-conf-net-${suffix}`;
const IMAGE = 'koala-test/base:1';

afterAll(() => {
  spawnSync('docker', ['rm', '-f', container, `${container}-2`], { stdio: 'ignore' });
  spawnSync('docker', ['volume', 'rm', '-f', volume], { stdio: 'ignore' });
  spawnSync('docker', ['network', 'rm', network], { stdio: 'ignore' });
});

describe('fake docker answers like Docker', () => {
  it('about a container that does not exist', () => {
    for (const args of [
      ['container', 'inspect', '--format', '{{json .}}', container],
      ['rm', container],
      ['rm', '-f', container],
      ['start', container],
      ['exec', container, 'true'],
      ['volume', 'rm', volume],
      ['volume', 'rm', '-f', volume],
      ['volume', 'ls', '-q', '--filter', `name=^${volume}$`],
    ]) {
      const { real, fake } = both(args);
      expect({ args, ...fake }).toEqual({ args, ...real });
    }
  });

  it('through the life of a registry-like container', async () => {
    const port = await freePort();
    const runArgs = [
      'run',
      '-d',
      '--restart=always',
      '--name',
      container,
      '--label',
      'app.kubernetes.io/managed-by=koala',
      '-p',
      `127.0.0.1:${port}:5000`,
      '-v',
      `${volume}:/var/lib/registry`,
      IMAGE,
      'sleep',
      '600',
    ];
    for (const args of [['network', 'create', network], runArgs]) {
      const { real, fake } = both(args);
      expect({ args, code: fake.code }).toEqual({ args, code: real.code });
    }
    // The fields koala reads from `container inspect`.
    const inspect = (which: 'real' | 'fake'): unknown => {
      const [file, argv] = which === 'real' ? ['docker', []] : [process.execPath, [FAKE]];
      const r = spawnSync(file, [...argv, 'container', 'inspect', '--format', '{{json .}}', container], {
        encoding: 'utf8',
        env: { ...process.env, KOALA_FAKE_STATE: fakeState },
      });
      type Bindings = Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
      const c = JSON.parse(r.stdout) as {
        State: { Running: boolean; Status: string };
        Config: { Image: string; Labels: Record<string, string> };
        HostConfig: { PortBindings: Bindings };
        NetworkSettings: { Networks: Record<string, unknown>; Ports: Bindings };
      };
      return {
        running: c.State.Running,
        status: c.State.Status,
        image: c.Config.Image,
        label: c.Config.Labels['app.kubernetes.io/managed-by'],
        networks: Object.keys(c.NetworkSettings.Networks).sort(),
        configured: c.HostConfig.PortBindings['5000/tcp'],
        live: c.NetworkSettings.Ports['5000/tcp'] ?? null,
      };
    };
    expect(inspect('fake')).toEqual(inspect('real'));

    const sequence: Array<{ args: string[]; input?: string; compare: 'all' | 'code' }> = [
      { args: ['ps', '--filter', `publish=${port}`, '--format', '{{.Names}}'], compare: 'all' },
      { args: runArgs, compare: 'all' }, // a second run: the name is taken
      {
        args: ['run', '-d', '--name', `${container}-2`, '-p', `127.0.0.1:${port}:5000`, IMAGE, 'sleep', '600'],
        compare: 'code',
      }, // the port is taken
      { args: ['network', 'connect', network, container], compare: 'all' },
      { args: ['network', 'connect', network, container], compare: 'all' }, // already connected
      { args: ['exec', container, 'cat', '/etc/koala/hosts.toml'], compare: 'code' },
      {
        args: ['exec', '-i', container, 'sh', '-c', "mkdir -p '/etc/koala' && cat > '/etc/koala/hosts.toml'"],
        input: '[host."http://r:5000"]\n',
        compare: 'all',
      },
      { args: ['exec', container, 'cat', '/etc/koala/hosts.toml'], compare: 'all' },
      { args: ['volume', 'ls', '-q', '--filter', `name=^${volume}$`], compare: 'all' },
      { args: ['stop', '-t', '1', container], compare: 'all' },
      { args: ['start', container], compare: 'all' },
      { args: ['rm', '-f', container], compare: 'all' },
      { args: ['volume', 'rm', '-f', volume], compare: 'all' },
      { args: ['volume', 'ls', '-q', '--filter', `name=^${volume}$`], compare: 'all' },
    ];
    for (const step of sequence) {
      spawnSync('docker', ['rm', '-f', `${container}-2`], { stdio: 'ignore' });
      const { real, fake } = both(step.args, step.input);
      if (step.compare === 'code')
        expect({ args: step.args, code: fake.code }).toEqual({ args: step.args, code: real.code });
      else expect({ args: step.args, ...fake }).toEqual({ args: step.args, ...real });
      if (step.args[0] === 'stop' || step.args[0] === 'start') expect(inspect('fake')).toEqual(inspect('real'));
    }
  });
});
