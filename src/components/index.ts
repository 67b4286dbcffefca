import { airflow } from './airflow/index.ts';
import type { Component } from './component.ts';
import { networkPolicies } from './network-policies/index.ts';
import { objectStore } from './object-store/index.ts';
import { foundation } from './foundation/index.ts';
import { rbac } from './rbac/index.ts';
import { registry } from './registry/index.ts';
import { sparkOperator } from './spark-operator/index.ts';

/** Every component koala knows, in the order `status` lists them. */
export const COMPONENTS: readonly Component[] = [
  registry,
  foundation,
  sparkOperator,
  objectStore,
  airflow,
  rbac,
  networkPolicies,
];
