import { defineConfig } from 'vitest/config';

/**
 * Three tiers. `unit` needs nothing but Node. `testbed` runs against the real control plane of
 * test/testbed (kube-apiserver, etcd, controller-manager, scheduler, kwok), Helm 3 and 4,
 * Docker and a registry; its global setup starts the control plane once per run. `realkind`
 * runs `koala up` with the real kind and real nodes (test/realkind/README.md).
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
      {
        // Real kind clusters (scripts/testbed/build-kind-node.sh): one at a time, minutes each.
        test: {
          name: 'realkind',
          include: ['test/realkind/**/*.test.ts'],
          // Opt-in, projects realkind-convergence and realkind-platform below.
          exclude: [
            'test/realkind/convergence.test.ts',
            'test/realkind/platform-recovery.test.ts',
            'test/realkind/platform-airflow.test.ts',
          ],
          globalSetup: ['test/realkind/global-setup.ts'],
          testTimeout: 900_000,
          hookTimeout: 300_000,
          maxWorkers: 1,
          fileParallelism: false,
          // After the other tiers: two cores cannot boot kind nodes and serve the test bed at once.
          sequence: { groupOrder: 1 },
        },
      },
      // Opt-in (KOALA_TEST_CONVERGENCE=1): `koala up` stopped at every step, then run again; about
      // a minute a point on two idle cores, too long for every run (README, Tests).
      ...(process.env.KOALA_TEST_CONVERGENCE
        ? [
            {
              test: {
                name: 'convergence',
                include: ['test/convergence/**/*.test.ts'],
                globalSetup: ['test/support/global-setup.ts'],
                testTimeout: 900_000,
                hookTimeout: 900_000,
                maxWorkers: 2,
              },
            },
            {
              // The same table on real kind, for the cluster and registry steps: one to two
              // minutes a point (test/realkind/README.md).
              test: {
                name: 'realkind-convergence',
                include: ['test/realkind/convergence.test.ts'],
                globalSetup: ['test/realkind/global-setup.ts'],
                testTimeout: 900_000,
                hookTimeout: 900_000,
                maxWorkers: 1,
                fileParallelism: false,
                sequence: { groupOrder: 1 },
              },
            },
          ]
        : []),
      // Opt-in (KOALA_TEST_PLATFORM_FULL=1): the platform's recovery, the seed's YAML and Airflow on
      // real kind; about 30 minutes (test/realkind/README.md).
      ...(process.env.KOALA_TEST_PLATFORM_FULL
        ? [
            {
              test: {
                name: 'realkind-platform',
                include: ['test/realkind/platform-recovery.test.ts', 'test/realkind/platform-airflow.test.ts'],
                globalSetup: ['test/realkind/global-setup.ts'],
                testTimeout: 900_000,
                hookTimeout: 1_200_000,
                maxWorkers: 1,
                fileParallelism: false,
                sequence: { groupOrder: 2 },
              },
            },
          ]
        : []),
    ],
  },
});
