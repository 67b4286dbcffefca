import { describe, expect, it } from 'vitest';
import { deploymentReady } from '../../src/kube/readiness.ts';

describe('deploymentReady: rolled out, as kubectl rollout status has it', () => {
  const deployment = (generation: number, status: Record<string, number>) =>
    ({ metadata: { generation }, spec: { replicas: 1 }, status }) as never;
  it.each([
    [
      'rolled out',
      deployment(2, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }),
      true,
    ],
    // The new pod exists; the old one is still the one available, with the old configuration.
    [
      'mid-rollout',
      deployment(2, { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 1 }),
      false,
    ],
    [
      'new template not observed yet',
      deployment(3, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }),
      false,
    ],
    [
      'new pod not available',
      deployment(2, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 0 }),
      false,
    ],
    ['no status yet', deployment(1, {}), false],
  ])('%s', (_name, d, ready) => expect(deploymentReady(d)).toBe(ready));
});
