import type { Component } from './component.ts';
import { DECLARATIONS } from './index.ts';

/**
 * Every component's behaviour, loaded from the registry list (index.ts), in its order. Only the
 * modules that run components (orchestration/) import this one, so a command that merely reads
 * koala.yaml does not load Kubernetes, Helm and chart code.
 */
export const COMPONENTS: readonly Component[] = await Promise.all(DECLARATIONS.map((d) => d.load()));
