import { AIRFLOW } from './airflow/declaration.ts';
import type { ComponentDeclaration } from './declaration.ts';
import { FOUNDATION } from './foundation/declaration.ts';
import { GATEWAY_DECLARATION } from './gateway/declaration.ts';
import { NETWORK_POLICIES } from './network-policies/declaration.ts';
import { OBJECT_STORE } from './object-store/declaration.ts';
import { RBAC } from './rbac/declaration.ts';
import { REGISTRY } from './registry/declaration.ts';
import { SPARK_OPERATOR } from './spark-operator/declaration.ts';

/**
 * Every component koala knows, in the order `status` lists them: the one list. The config
 * schema (components.*, namespaces.*, ports.*), the cluster's port mappings, the shared names
 * and the network-policy matrix are read from these declarations; COMPONENTS (all.ts) loads
 * their behaviour. This module and the declarations stay light: the config schema imports them.
 */
export const DECLARATIONS = [
  REGISTRY,
  FOUNDATION,
  SPARK_OPERATOR,
  OBJECT_STORE,
  AIRFLOW,
  GATEWAY_DECLARATION,
  RBAC,
  NETWORK_POLICIES,
] as const satisfies readonly ComponentDeclaration[];

type Declared = (typeof DECLARATIONS)[number];
/** The keys under koala.yaml `namespaces:` the components declare (besides `system`, koala's own). */
export type NamespaceKey = Declared extends infer D ? (D extends { namespace: { key: infer K } } ? K : never) : never;
/** The keys under koala.yaml `ports:`. */
export type HostPortKey = Declared extends infer D ? (D extends { hostPorts: infer H } ? keyof H : never) : never;
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;
/** Every declared Helm release, by the name the code uses. */
export type Releases = UnionToIntersection<
  Declared extends infer D ? (D extends { releases: infer R } ? R : never) : never
>;
