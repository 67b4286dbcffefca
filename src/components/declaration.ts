import type { KoalaConfig } from '../config/schema.ts';
import type { Component, PlatformService } from './component.ts';
import type { AllowRule, Group, Port } from './network-policies/matrix.ts';

/**
 * What a component tells the rest of koala about itself, declared once in its folder
 * (`<id>/declaration.ts`) and listed in index.ts. The config schema, the cluster's port
 * mappings, the shared names and the network-policy matrix read these, so the modules holding
 * them stay light: types, constants and pure functions of the config, no Kubernetes, Helm or
 * chart code (that is in the component's index.ts, which `load` imports when something runs it).
 */
export interface ComponentDeclaration {
  /** Its id: its step in `koala up` and its line in `koala status`. */
  readonly id: string;
  /** Its key under koala.yaml `components:` (enabled, version, values); parts that are always there have none. */
  readonly configKey?: string;
  /** Its Helm releases, by the name the code uses for each. */
  readonly releases?: Readonly<Record<string, string>>;
  /** Its namespace: the key under koala.yaml `namespaces:`, and the name when that is unset. */
  readonly namespace?: { readonly key: string; readonly default: string };
  /**
   * The namespaces its workloads run in, with their `koala.dev/role` label: the personas are bound
   * and default-deny applies in exactly these. Without it: its namespace, with its id as the role.
   */
  workloadNamespaces?(config: KoalaConfig): NamespaceRole[];
  /** Host ports kind maps onto NodePorts of its Services: koala.yaml `ports.<key>` (0 turns one off). */
  readonly hostPorts?: Readonly<Record<string, HostPort>>;
  /** A data component: koala's own parts (namespaces, credentials, RBAC, policies) are there to serve these. */
  readonly data?: boolean;
  /** The Services users reach by name (port-forward, endpoints, the job loop). */
  services?(config: KoalaConfig): PlatformService[];
  /** Its pods in the network-policy allow matrix, and the connections they open or accept. */
  policy?(config: KoalaConfig): PolicyDeclaration;
  /** Its behaviour (steps, health, endpoints), imported only by the commands that run it. */
  load(): Promise<Component>;
}

export interface HostPort {
  /** The host port (127.0.0.1) when koala.yaml sets none. */
  readonly default: number;
  /** The NodePort its Service uses, which kind maps the host port onto. */
  readonly nodePort: number;
}

/**
 * A component's part of the allow matrix (network-policies/matrix.ts). DNS is allowed to every
 * platform group, and the API server to those that say so; everything else is a rule here.
 */
export interface PolicyDeclaration {
  /** Its pods: each platform group's namespaces get default-deny. */
  groups: Group[];
  /** The connections between its pods and the others', by group id. */
  rules: AllowRule[];
  /**
   * For each of its host ports (by key) that is mapped, the rule that lets the host in (kind → NodePort);
   * the matrix lists these after every component's rules, in NodePort order.
   */
  fromHost?: Record<string, AllowRule | undefined>;
}

/**
 * kind's pod network, which koala leaves at kind's default. NodePort traffic from the host's
 * mapped ports reaches a pod from a node's address, outside it; pods of other namespaces come
 * from inside it, so a host-only rule need not admit them.
 */
export const KIND_POD_SUBNET = '10.244.0.0/16';

/** koala's namespace for releases and persona ServiceAccounts when koala.yaml names none. */
export const DEFAULT_SYSTEM_NAMESPACE = 'koala-system';

export const tcp = (...ports: number[]): Port[] => ports.map((port) => ({ port, protocol: 'TCP' }));

export interface NamespaceRole {
  name: string;
  role: string;
}
