import type { KoalaConfig } from '../../config/schema.ts';
import type { PlatformService } from '../component.ts';
import { DEFAULT_SYSTEM_NAMESPACE, tcp, type ComponentDeclaration, type PolicyDeclaration } from '../declaration.ts';

/**
 * The gateway: Caddy, a reverse proxy koala configures from the platform's Ingresses of class
 * `koala` (published tasks render one each). It serves every published service under its prefix
 * on one host port, checks the access group's credentials, and lists the visible services at /.
 */
export const GATEWAY = {
  controller: 'koala.dev/gateway',
  /** On a namespace with published services: the gateway's NetworkPolicy may reach its pods. */
  backendLabel: 'koala.dev/gateway-backend',
  /** The port Caddy listens on in its pod (not 80: the pod runs without privileges). */
  containerPort: 8080,
  /** Caddy's JSON config, in a Secret (it holds the access groups' password hashes). */
  configSecret: 'gateway-config',
  /** Each access group's user name, password and bcrypt hash. */
  accessSecretPrefix: 'gateway-access-',
  deployment: 'gateway',
  service: 'gateway',
  /** On the pod template: the hash of the config, so a new config rolls the pods. */
  configHashAnnotation: 'koala.dev/gateway-config-hash',
  podLabels: { 'app.kubernetes.io/name': 'koala-gateway' },
  podSelector: 'app.kubernetes.io/name=koala-gateway',
} as const;

/**
 * The Ingress class published services use and the gateway serves: `koala`, or with another
 * system namespace `koala-<system namespace>`. An IngressClass belongs to the whole cluster, so
 * two platforms on one cluster (other namespaces) each serve their own Ingresses only.
 */
export function ingressClassOf(config: KoalaConfig): string {
  const system = config.namespaces.system;
  return system === DEFAULT_SYSTEM_NAMESPACE ? 'koala' : `koala-${system}`;
}

/** Where the gateway is reached from the host; "" when no host port is mapped. */
export function gatewayBase(config: KoalaConfig): string {
  return config.ports.gateway > 0 ? `http://127.0.0.1:${config.ports.gateway}` : '';
}

export const GATEWAY_DECLARATION = {
  id: 'gateway',
  configKey: 'gateway',
  namespace: { key: 'gateway', default: 'gateway' },
  hostPorts: { gateway: { default: 8000, nodePort: 30800 } },
  policy: (config: KoalaConfig): PolicyDeclaration => ({
    groups: [
      {
        id: 'gateway',
        title: 'Gateway (Caddy)',
        kind: 'platform',
        namespaces: [config.namespaces.gateway],
        pods: {},
      },
      {
        id: 'published-services',
        title: 'Published services, in namespaces koala labels when it deploys them',
        kind: 'labelled-namespaces',
        namespaceLabels: { [GATEWAY.backendLabel]: 'true' },
        pods: {},
      },
    ],
    rules: [
      {
        id: 'gateway-to-published',
        from: ['gateway'],
        to: 'published-services',
        // Each published service listens on its manifest's container-port.
        ports: 'all',
        why: 'the gateway proxies requests to the published services',
      },
    ],
    fromHost: {
      gateway:
        config.ports.gateway > 0
          ? {
              id: 'host-to-gateway',
              from: ['outside-pods'],
              to: 'gateway',
              ports: tcp(GATEWAY.containerPort),
              why: `the host's 127.0.0.1:${config.ports.gateway} (kind port mapping → NodePort) to the gateway`,
            }
          : undefined,
    },
  }),
  services: (config: KoalaConfig): PlatformService[] => [
    {
      name: 'gateway',
      namespace: config.namespaces.gateway,
      service: GATEWAY.service,
      port: 80,
      localPort: config.ports.gateway,
      description: 'published services, under their prefixes',
    },
  ],
  load: async () => (await import('./index.ts')).gateway,
} as const satisfies ComponentDeclaration;
