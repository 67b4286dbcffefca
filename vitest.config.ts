import { defineConfig } from 'vitest/config';

/**
 * Two tiers. `unit` needs nothing but Node. `testbed` runs against the real control plane of
 * test/testbed (kube-apiserver, etcd, controller-manager, scheduler, kwok), Helm 3 and 4,
 * Docker and a registry; its global setup starts the control plane once per run.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'testbed',
          include: ['test/process/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // Two cores: more workers only fight over CPU with the control plane.
          maxWorkers: 2,
        },
      },
    ],
  },
});
