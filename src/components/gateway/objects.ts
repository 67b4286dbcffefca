import { createHash } from 'node:crypto';
import type { KoalaConfig } from '../../config/schema.ts';
import type { Manifest } from '../../kube/client.ts';
import { SERVICE_NODE_PORTS } from '../../cluster/spec.ts';
import { HEALTH_PATH } from './caddy.ts';
import { GATEWAY, ingressClassOf } from './declaration.ts';

/**
 * The gateway's Kubernetes objects: the IngressClass it implements, Caddy's config (a Secret: it
 * holds password hashes), its Deployment and its Service (a NodePort kind maps to the host).
 * Pure: the config's hash is on the pod template, so a new config rolls the pods and the same
 * config changes nothing.
 */

const labels = { 'app.kubernetes.io/managed-by': 'koala', 'app.kubernetes.io/part-of': 'koala-gateway' };
/** On each access group's Secret: the group. */
export const ACCESS_GROUP_LABEL = 'gateway.koala.dev/access-group';
const CONFIG_DIR = '/etc/koala-gateway';
const CONFIG_FILE = 'caddy.json';

/**
 * A Secret's values as the API server returns them (`data`, base64), not `stringData`: the check
 * that compares the wanted object with the live one then finds them equal.
 */
const base64Values = (values: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')]));

export function ingressClass(config: KoalaConfig): Manifest {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: ingressClassOf(config), labels },
    spec: { controller: GATEWAY.controller },
  };
}

export function configHash(caddyJson: string): string {
  return createHash('sha256').update(caddyJson).digest('hex').slice(0, 16);
}

export function configSecret(config: KoalaConfig, caddyJson: string): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: GATEWAY.configSecret,
      namespace: config.namespaces.gateway,
      labels,
      annotations: { [GATEWAY.configHashAnnotation]: configHash(caddyJson) },
    },
    type: 'Opaque',
    data: base64Values({ [CONFIG_FILE]: caddyJson }),
  };
}

export function gatewayDeployment(config: KoalaConfig, image: string, hash: string): Manifest {
  const probe = { httpGet: { path: HEALTH_PATH, port: 'http' }, periodSeconds: 5 };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    // The pods' name label too: readiness waits find the Deployment by it.
    metadata: {
      name: GATEWAY.deployment,
      namespace: config.namespaces.gateway,
      labels: { ...GATEWAY.podLabels, ...labels },
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: GATEWAY.podLabels },
      // The new pod is ready before the old one goes: a route change does not drop requests.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: {
          labels: { ...GATEWAY.podLabels, ...labels },
          annotations: { [GATEWAY.configHashAnnotation]: hash },
        },
        spec: {
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: 65534,
            runAsGroup: 65534,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          containers: [
            {
              name: 'caddy',
              image,
              command: ['caddy', 'run', '--config', `${CONFIG_DIR}/${CONFIG_FILE}`],
              env: [
                { name: 'XDG_CONFIG_HOME', value: '/config' },
                { name: 'XDG_DATA_HOME', value: '/data' },
              ],
              ports: [{ name: 'http', containerPort: GATEWAY.containerPort, protocol: 'TCP' }],
              readinessProbe: probe,
              livenessProbe: { ...probe, periodSeconds: 10, failureThreshold: 6 },
              resources: { requests: { cpu: '10m', memory: '32Mi' }, limits: { memory: '256Mi' } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                // The official image's caddy binary carries the file capability cap_net_bind_service,
                // which the kernel refuses to exec unless the container may have it.
                capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
              },
              volumeMounts: [
                { name: 'config', mountPath: CONFIG_DIR, readOnly: true },
                { name: 'caddy-config', mountPath: '/config' },
                { name: 'caddy-data', mountPath: '/data' },
              ],
            },
          ],
          volumes: [
            { name: 'config', secret: { secretName: GATEWAY.configSecret, defaultMode: 0o444 } },
            { name: 'caddy-config', emptyDir: {} },
            { name: 'caddy-data', emptyDir: {} },
          ],
        },
      },
    },
  };
}

/** Port 80 in the cluster; a NodePort that kind maps to 127.0.0.1:<ports.gateway> when that is set. */
export function gatewayService(config: KoalaConfig): Manifest {
  const mapped = config.ports.gateway > 0;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: GATEWAY.service, namespace: config.namespaces.gateway, labels },
    spec: {
      type: mapped ? 'NodePort' : 'ClusterIP',
      selector: GATEWAY.podLabels,
      ports: [
        {
          name: 'http',
          port: 80,
          targetPort: 'http',
          protocol: 'TCP',
          ...(mapped ? { nodePort: SERVICE_NODE_PORTS.gateway } : {}),
        },
      ],
    },
  };
}

/** An access group's credentials: its user name (the group), a generated password and its bcrypt hash. */
export function accessSecret(config: KoalaConfig, group: string, password: string, bcryptHash: string): Manifest {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: `${GATEWAY.accessSecretPrefix}${group}`,
      namespace: config.namespaces.gateway,
      labels: { ...labels, [ACCESS_GROUP_LABEL]: group },
    },
    type: 'kubernetes.io/basic-auth',
    data: base64Values({ username: group, password, bcrypt: bcryptHash }),
  };
}
