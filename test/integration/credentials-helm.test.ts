/**
 * Reading the platform's credentials back from the cluster, with the real Helm 3 and Helm 4
 * against the test bed: helm's own "release: not found" is the one answer that means "no
 * credentials yet"; a helm that fails once for another reason stops koala, and the next try
 * reads what the release holds.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { platformCredentials } from '../../src/components/foundation/index.ts';
import { platformSecrets } from '../../src/components/foundation/secrets.ts';
import { resolveCredentials } from '../../src/orchestration/credentials.ts';
import { upgradeInstall } from '../../src/tools/helm.ts';
import { platformChart } from '../../src/components/release.ts';
import { platformConfig, testbedContext, uniquePrefix } from '../support/platform.ts';
import { kubectl, testbed } from '../support/testbed.ts';

const UNREACHABLE =
  'Error: Kubernetes cluster unreachable: Get "https://127.0.0.1:6443/version": ' +
  'dial tcp 127.0.0.1:6443: connect: connection refused';

/** Real helm, except that the first `get values` fails as an unreachable API server does. */
function failingOnce(realHelm: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'koala-helm-once-'));
  const wrapper = path.join(dir, 'helm');
  writeFileSync(
    wrapper,
    [
      '#!/usr/bin/env bash',
      `if [ "$1 $2" = "get values" ] && [ ! -e '${dir}/failed' ]; then`,
      `  touch '${dir}/failed'`,
      `  echo '${UNREACHABLE}' >&2`,
      '  exit 1',
      'fi',
      `exec '${realHelm}' "$@"`,
      '',
    ].join('\n'),
  );
  chmodSync(wrapper, 0o755);
  return wrapper;
}

function oneOfEach<T extends { name: string }>(items: T[]): T[] {
  return items.filter((item, i) => items.findIndex((x) => x.name === item.name) === i);
}

describe.each(['helm3', 'helm4'])('credentials from the cluster with %s', (helmName) => {
  const saved = process.env.KOALA_HELM;
  const prefix = uniquePrefix(helmName === 'helm3' ? 'cr3' : 'cr4');
  beforeAll(() => {
    process.env.KOALA_HELM = failingOnce(path.join(testbed().binDir, helmName));
  });
  afterAll(() => {
    process.env.KOALA_HELM = saved;
    kubectl(['delete', 'namespace', `${prefix}-system`, '--ignore-not-found', '--wait=false']);
  });

  // A transient failure stops; "release: not found" from the real helm means new credentials;
  // an installed release is read back.
  it('the real helm: a transient failure, a release not found, an installed release', async () => {
    const config = platformConfig(prefix, undefined);
    // 1. helm fails once: no credentials, no guess.
    await expect(platformCredentials(testbedContext(config))).rejects.toThrow(
      /Could not read the credentials the cluster already holds[\s\S]*Kubernetes cluster unreachable/,
    );
    // 2. The real helm: the release does not exist.
    const fresh = await platformCredentials(testbedContext(config));
    expect(new Set(Object.values(fresh.sources))).toEqual(new Set(['generated']));

    // 3. The release holds credentials (as after a `koala up` whose state directory was removed since).
    const existing = (await resolveCredentials(new Map(), undefined)).credentials;
    const chart = await platformChart();
    const tb = testbed();
    await upgradeInstall(
      { kubeconfig: tb.kubeconfig, context: tb.context },
      {
        release: 'koala-platform',
        namespace: `${prefix}-system`,
        createNamespace: true,
        chart: chart.local!,
        timeoutSeconds: 60,
        // All in the release's namespace (the others do not exist here), one of each name.
        values: {
          chartDigest: chart.digest,
          sections: { credentials: true },
          secrets: oneOfEach(platformSecrets(config, existing)).map((s) => ({ ...s, namespace: `${prefix}-system` })),
        },
      },
    );
    const read = await platformCredentials(testbedContext(config));
    expect(read.credentials).toEqual(existing);
    expect(new Set(Object.values(read.sources))).toEqual(new Set(['cluster']));
  });
});
