/**
 * The kind stand-in must answer like kind. kind cannot create a cluster here (its nodes are
 * privileged containers), but everything up to that point runs: its version, its queries
 * about clusters that do not exist, and its validation of a config. The real kind (built from
 * its Go module by scripts/testbed/build-kind.sh) and the stand-in answer the same commands
 * against the same Docker daemon, and their exit codes and messages are compared.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO } from '../support/testbed.ts';

const REAL = execFileSync('bash', [path.join(REPO, 'scripts/testbed/build-kind.sh'), '--print-bin'], {
  encoding: 'utf8',
}).trim();
const FAKE = path.join(REPO, 'test/fakes/bin/kind');
const state = mkdtempSync(path.join(os.tmpdir(), 'koala-fake-kind-'));
const kubeconfig = path.join(state, 'kubeconfig');
const name = `conf${randomBytes(3).toString('hex')}`;

function answer(
  which: 'real' | 'fake',
  args: string[],
  input = '',
): { code: number | null; stdout: string; stderr: string } {
  const [file, argv] = which === 'real' ? [REAL, args] : [process.execPath, [FAKE, ...args]];
  const r = spawnSync(file, argv, {
    encoding: 'utf8',
    input,
    env: { ...process.env, KOALA_FAKE_STATE: state, KUBECONFIG: kubeconfig },
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout.trim(), stderr: r.stderr.trim() };
}

const config = (nodes: string): string => `kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n${nodes}`;

describe('the kind stand-in answers like kind', () => {
  it.each([
    ['version', ['version'], ''],
    ['no clusters', ['get', 'clusters'], ''],
    ['no nodes', ['get', 'nodes', '--name', name], ''],
    ['delete of a cluster that is not there', ['delete', 'cluster', '--name', name], ''],
    ['kubeconfig of a cluster that is not there', ['get', 'kubeconfig', '--name', name], ''],
    [
      'a config file that does not exist',
      ['create', 'cluster', '--name', name, '--config', path.join(state, 'nope.yaml')],
      '',
    ],
    [
      'an unknown apiVersion',
      ['create', 'cluster', '--name', name, '--config', '-'],
      'kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha3\n',
    ],
    [
      'an unknown node role',
      ['create', 'cluster', '--name', name, '--config', '-'],
      config('nodes:\n- role: master\n'),
    ],
    [
      'workers without a control plane',
      ['create', 'cluster', '--name', name, '--config', '-'],
      config('nodes:\n- role: worker\n'),
    ],
    ['an unknown command', ['frobnicate'], ''],
  ])('%s', async (_what, args, input) => {
    // Both read the same Docker daemon, which other test files share: a kind-labelled container
    // made or removed between the two calls changes the answer, so compare again a few times.
    let [real, fake] = [answer('real', args, input), answer('fake', args, input)];
    for (let attempt = 0; attempt < 5 && !isDeepStrictEqual(real, fake); attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      [real, fake] = [answer('real', args, input), answer('fake', args, input)];
    }
    expect(fake).toEqual(real);
  });

  it('a config that is not YAML fails the same way (the parser detail aside)', () => {
    const args = ['create', 'cluster', '--name', name, '--config', '-'];
    const input = config('nodes: [oops\n');
    const [real, fake] = [answer('real', args, input), answer('fake', args, input)];
    const prefix = (s: string): string => s.slice(0, s.indexOf('yaml:') + 5);
    expect({ code: fake.code, stderr: prefix(fake.stderr) }).toEqual({ code: real.code, stderr: prefix(real.stderr) });
    expect(real.stderr).toMatch(/could not determine kind \/ apiVersion for config: yaml:/);
  });
});
