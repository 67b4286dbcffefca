import type { KoalaConfig } from '../config/schema.ts';
import type { Step } from '../engine/step.ts';
import type { ComponentDeclaration } from './declaration.ts';
import type { PlatformContext } from '../orchestration/context.ts';

export interface Health {
  ok: boolean;
  /** One line: what is working, or what is wrong. */
  detail: string;
  /** Set when the component is simply not installed (as opposed to installed and broken). */
  missing?: boolean;
  /** Problems in what users gave it (a DAG that fails to import), one line each, with what to do. */
  problems?: string[];
}

export interface Endpoint {
  name: string;
  url: string;
  /** The command that reaches it from the host when no port is mapped. */
  portForward?: string;
  /** Where its credentials are. */
  credentials?: string;
}

/**
 * A Service a component offers users: `koala port-forward <name>` reaches it, `koala up` lists it
 * among the endpoints, and the job loop finds it by name.
 */
export interface PlatformService {
  /** The name `koala port-forward <name>` takes. */
  name: string;
  namespace: string;
  service: string;
  port: number;
  /** 127.0.0.1:<localPort> on the host (koala.yaml ports.*, mapped by kind to a NodePort); 0 when none. */
  localPort: number;
  description: string;
}

/**
 * A piece of the platform (registry, Spark operator, object store, Airflow, RBAC, network
 * policies): its declaration (declaration.ts, what the rest of koala reads without loading it)
 * and its behaviour. Adding one means adding a folder and listing its declaration in
 * components/index.ts; where its steps come in `koala up` is written in src/orchestration/up-order.ts.
 */
export interface Component extends Omit<ComponentDeclaration, 'load'> {
  readonly title: string;
  enabled(config: KoalaConfig): boolean;
  /** What it needs and how to install it and wait until it is ready: steps of `koala up`. */
  steps(ctx: PlatformContext): Step[];
  /** How it is doing, for `koala status`. */
  health(ctx: PlatformContext, signal: AbortSignal): Promise<Health>;
  /** What users reach, listed at the end of `koala up`; without it, the services are listed. */
  endpoints?(ctx: PlatformContext): Endpoint[];
  /** Steps of `koala down` for what lives outside the cluster (the cluster takes the rest with it). */
  teardown?(ctx: PlatformContext, options: { keepRegistry: boolean }): Step[];
}
