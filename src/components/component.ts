import type { KoalaConfig } from '../config/schema.ts';
import type { Step } from '../engine/step.ts';
import type { PlatformContext } from '../platform/context.ts';

export interface Health {
  ok: boolean;
  /** One line: what is working, or what is wrong. */
  detail: string;
  /** Set when the component is simply not installed (as opposed to installed and broken). */
  missing?: boolean;
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
 * A piece of the platform (registry, Spark operator, object store, Airflow, RBAC, network
 * policies). Adding one means adding a folder and listing it in components/index.ts.
 */
export interface Component {
  readonly id: string;
  readonly title: string;
  enabled(config: KoalaConfig): boolean;
  /** What it needs and how to install it and wait until it is ready: steps of `koala up`. */
  steps(ctx: PlatformContext): Step[];
  /** How it is doing, for `koala status`. */
  health(ctx: PlatformContext, signal: AbortSignal): Promise<Health>;
  /** What users reach, listed at the end of `koala up`. */
  endpoints?(ctx: PlatformContext): Endpoint[];
  /** Steps of `koala down` for what lives outside the cluster (the cluster takes the rest with it). */
  teardown?(ctx: PlatformContext, options: { keepRegistry: boolean }): Step[];
}
