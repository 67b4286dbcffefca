import type { Component } from './component.ts';
import { registry } from './registry/index.ts';

/** Every component koala knows, in the order `status` lists them. */
export const COMPONENTS: readonly Component[] = [registry];
