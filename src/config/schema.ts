import { IMAGE_KEYS, type ImageKey } from '../charts/pins.ts';
import { NODE_IMAGES } from '../cluster/node-images.ts';
import { hostPorts } from '../components/host-ports.ts';
import { DEFAULT_SYSTEM_NAMESPACE } from '../components/declaration.ts';
import { DECLARATIONS, type HostPortKey, type NamespaceKey } from '../components/index.ts';
import type { FieldSpec } from './spec.ts';

/** The resolved configuration every command works from. */
export interface KoalaConfig {
  /** Directory of koala.yaml, or the working directory when there is none. */
  projectDir: string;
  configFile: string | undefined;
  cluster: {
    name: string;
    controlPlanes: number;
    workers: number;
    kubernetesVersion: string;
    /** Set when the user picked the version; otherwise koala may choose one that suits the host. */
    kubernetesVersionPinned: boolean;
    /** Overrides the pinned image for the version (must carry a digest). */
    nodeImage: string | undefined;
    /**
     * A kubeconfig context of a cluster koala did not create: the platform goes there, with no kind
     * cluster and no local registry. Unset: koala's own kind cluster, `name`.
     */
    context: string | undefined;
  };
  /**
   * The local registry beside the kind cluster; `external` is the repository the cluster pulls app
   * images from instead (host[:port]/path), for a cluster koala did not create.
   */
  registry: { enabled: boolean; name: string; port: number; image: string; external: string | undefined };
  /** Host ports (on 127.0.0.1) mapped into the cluster for the services; 0 turns one off (components declare them). */
  ports: Record<HostPortKey, number>;
  charts: { mirror: string | undefined };
  /** Image references: one per key overrides its pin; `mirror` replaces the upstream registry of every pin. */
  images: Partial<Record<ImageKey, string>> & { mirror?: string };
  /** Where `koala tools install` fetches kind, helm and kubectl; sums for what a mirror serves. */
  tools: { mirror: string | undefined; sha256: Partial<Record<'kind' | 'helm' | 'kubectl', string>> };
  spark: { jobNamespaces: string[] };
  /** Where the platform lives: koala's own releases (system), and each component that declares a namespace. */
  namespaces: { system: string } & Record<NamespaceKey, string>;
  networkPolicies: {
    enabled: boolean;
    /** Extra egress for Spark jobs (e.g. 0.0.0.0/0 to download packages). */ jobEgressCidrs: string[];
  };
  /**
   * The S3 store: installed in the cluster (minio, seaweedfs) or `external`, any S3 endpoint the
   * pods reach, with its keys from .env.private; endpoint, region, pathStyle and egressCidrs are
   * for `external` only.
   */
  objectStore: {
    type: 'minio' | 'seaweedfs' | 'external';
    buckets: string[];
    endpoint: string | undefined;
    region: string;
    pathStyle: boolean;
    /** Where the external endpoint's addresses are; empty: any address outside the pod network. */
    egressCidrs: string[];
  };
  airflow: { dagsDir: string };
  components: Record<string, ComponentSettings>;
  timeouts: { clusterCreateSeconds: number; nodesReadySeconds: number; componentSeconds: number };
}

export interface ComponentSettings {
  enabled: boolean;
  /** Chart version override. */
  version?: string;
  /** Extra Helm values, merged over koala's. */
  values?: Record<string, unknown>;
}

/** The keys under koala.yaml `components:`: those the components declare (components/index.ts). */
export const COMPONENT_IDS: readonly string[] = DECLARATIONS.flatMap((d) => ('configKey' in d ? [d.configKey] : []));
const NAMESPACE_DEFAULTS: ReadonlyArray<{ key: string; default: string }> = DECLARATIONS.flatMap((d) =>
  'namespace' in d ? [d.namespace] : [],
);

const dnsLabel = {
  pattern: /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/,
  accepted: 'lowercase letters, digits and "-", starting and ending with a letter or digit, at most 63 characters',
};
const port: FieldSpec = { type: 'int', min: 1024, max: 65535 };
const ipv4Cidr: FieldSpec = {
  type: 'string',
  pattern: /^(\d{1,3}\.){3}\d{1,3}\/\d{1,2}$/,
  accepted: 'an IPv4 CIDR like 0.0.0.0/0 or 10.0.0.0/8',
};
const hostPort: FieldSpec = { type: 'int', min: 0, max: 65535, doc: '0 turns the mapping off' };
const seconds: FieldSpec = { type: 'int', min: 10, max: 7200 };
/** Docker's reference grammar: [host[:port]/]path[:tag][@sha256:digest], no scheme. */
const pathComponent = '[a-z0-9]+([._-]+[a-z0-9]+)*';
const IMAGE_REFERENCE = new RegExp(
  [
    String.raw`^([a-zA-Z0-9.-]+(:\d+)?\/)?`, // host[:port]/
    String.raw`${pathComponent}(\/${pathComponent})*`, // path
    String.raw`(:\w[\w.-]{0,127})?`, // :tag
    '(@sha256:[0-9a-f]{64})?$', // @sha256:digest
  ].join(''),
);
const imageReference: FieldSpec = {
  type: 'string',
  pattern: IMAGE_REFERENCE,
  accepted:
    'an image reference like registry.internal:5000/apache/airflow:3.2.2 (no scheme; a tag and/or @sha256 digest)',
};

const component: FieldSpec = {
  type: 'object',
  fields: {
    enabled: { type: 'bool' },
    version: { type: 'string', pattern: /^\d+\.\d+\.\d+([-+][\w.-]+)?$/, accepted: 'a chart version like 1.2.3' },
    values: { type: 'map', of: { type: 'any' } },
  },
};

const sha256: FieldSpec = {
  type: 'string',
  pattern: /^[0-9a-f]{64}$/,
  accepted: '64 lowercase hex digits (a SHA-256)',
};

/** The shape of koala.yaml. Everything is optional; defaults fill the rest. */
export const CONFIG_SPEC: FieldSpec = {
  type: 'object',
  fields: {
    cluster: {
      type: 'object',
      fields: {
        // kind's rule ([a-z0-9.-]); each part starts and ends with a letter or digit, as Docker and
        // Kubernetes node names need; kind's longest name, <name>-external-load-balancer, is a host name (63).
        name: {
          type: 'string',
          pattern: /^(?=.{1,40}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/,
          accepted:
            'a kind cluster name: lowercase letters, digits, "-" and ".", ' +
            'each part starting and ending with a letter or digit, at most 40 characters',
        },
        controlPlanes: { type: 'int', oneOf: [1, 3, 5], doc: 'an odd number, so etcd keeps a majority' },
        workers: { type: 'int', min: 0, max: 10 },
        kubernetesVersion: { type: 'enum', values: NODE_IMAGES.map((n) => n.version) },
        // By digest (kind's advice for published images), or a local image by name:tag, such as
        // one made with `kind build node-image`, which has no digest until it is pushed.
        nodeImage: {
          type: 'string',
          pattern: /^[\w./-]+(:\d+)?(\/[\w./-]+)*(:[\w][\w.-]{0,127})(@sha256:[0-9a-f]{64})?$/,
          accepted:
            'an image pinned by digest, like kindest/node:v1.35.8@sha256:<64 hex digits>, or a local image by name:tag',
        },
        // kubectl accepts any non-empty name; koala keeps it to one printable token.
        context: {
          type: 'string',
          pattern: /^[^\s]{1,253}$/,
          accepted: 'the name of a context in your kubeconfig (`kubectl config get-contexts -o name`)',
        },
      },
    },
    registry: {
      type: 'object',
      fields: {
        enabled: { type: 'bool' },
        name: { type: 'string', ...dnsLabel },
        port,
        image: { type: 'string', pattern: /^[\w./:@-]+$/, accepted: 'an image reference, like registry:3' },
        external: {
          type: 'string',
          pattern: /^[a-zA-Z0-9.-]+(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/,
          accepted: 'a registry host with an optional port and path and no scheme, like registry.example.com:5000/team',
        },
      },
    },
    ports: { type: 'object', fields: Object.fromEntries(hostPorts().map((p) => [p.key, hostPort])) },
    charts: {
      type: 'object',
      fields: {
        mirror: {
          type: 'string',
          pattern: /^(https?|oci):\/\/\S+$/,
          accepted: 'an http(s):// chart repository URL or an oci:// registry',
        },
      },
    },
    images: {
      type: 'object',
      fields: {
        mirror: {
          type: 'string',
          pattern: /^[a-zA-Z0-9.-]+(:\d+)?(\/[a-z0-9]+([._-][a-z0-9]+)*)*\/?$/,
          accepted: 'a registry host with an optional path and no scheme, like registry.internal:5000/hub',
        },
        ...Object.fromEntries(IMAGE_KEYS.map((key) => [key, imageReference])),
      },
    },
    tools: {
      type: 'object',
      fields: {
        mirror: {
          type: 'string',
          pattern: /^https?:\/\/\S+$/,
          accepted: 'an http(s):// URL serving <tool>/<version>/<platform>/<file>',
        },
        // The sums of the files the mirror serves for this machine, when they are not the official ones.
        sha256: { type: 'object', fields: Object.fromEntries(['kind', 'helm', 'kubectl'].map((t) => [t, sha256])) },
      },
    },
    spark: {
      type: 'object',
      fields: { jobNamespaces: { type: 'list', of: { type: 'string', ...dnsLabel }, minItems: 1 } },
    },
    objectStore: {
      type: 'object',
      fields: {
        type: { type: 'enum', values: ['minio', 'seaweedfs', 'external'] },
        endpoint: {
          type: 'string',
          pattern: /^https?:\/\/[^/\s?#@]+\/?$/,
          accepted: 'the S3 endpoint as pods reach it: http(s)://host[:port], no path and no credentials',
        },
        region: { type: 'string', pattern: /^[a-z0-9-]{2,32}$/, accepted: 'an S3 region such as us-east-1' },
        pathStyle: { type: 'bool' },
        egressCidrs: { type: 'list', of: ipv4Cidr },
        buckets: {
          type: 'list',
          of: {
            type: 'string',
            pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
            accepted: 'an S3 bucket name: 3-63 lowercase letters, digits, "." and "-"',
          },
        },
      },
    },
    namespaces: {
      type: 'object',
      fields: {
        system: { type: 'string', ...dnsLabel },
        ...Object.fromEntries(NAMESPACE_DEFAULTS.map((n) => [n.key, { type: 'string', ...dnsLabel }])),
      },
    },
    networkPolicies: {
      type: 'object',
      fields: {
        enabled: { type: 'bool' },
        jobEgressCidrs: {
          type: 'list',
          of: ipv4Cidr,
        },
      },
    },
    airflow: { type: 'object', fields: { dagsDir: { type: 'string' } } },
    components: { type: 'object', fields: Object.fromEntries(COMPONENT_IDS.map((id) => [id, component])) },
    timeouts: {
      type: 'object',
      fields: { clusterCreateSeconds: seconds, nodesReadySeconds: seconds, componentSeconds: seconds },
    },
  },
};

/** Defaults: what koala does with no koala.yaml at all (an HA layout: 3 control planes, 3 workers). */
export function defaultConfig(projectDir: string): KoalaConfig {
  return {
    projectDir,
    configFile: undefined,
    cluster: {
      name: 'koala',
      controlPlanes: 3,
      workers: 3,
      kubernetesVersion: NODE_IMAGES[0]!.version,
      kubernetesVersionPinned: false,
      nodeImage: undefined,
      context: undefined,
    },
    registry: { enabled: true, name: 'koala-registry', port: 5001, image: 'registry:3', external: undefined },
    ports: Object.fromEntries(hostPorts().map((p) => [p.key, p.default])) as KoalaConfig['ports'],
    charts: { mirror: undefined },
    images: {},
    tools: { mirror: undefined, sha256: {} },
    spark: { jobNamespaces: ['spark-jobs'] },
    namespaces: {
      system: DEFAULT_SYSTEM_NAMESPACE,
      ...(Object.fromEntries(NAMESPACE_DEFAULTS.map((n) => [n.key, n.default])) as Record<NamespaceKey, string>),
    },
    networkPolicies: { enabled: true, jobEgressCidrs: [] },
    objectStore: {
      type: 'minio',
      buckets: ['spark-data'],
      endpoint: undefined,
      region: 'us-east-1',
      pathStyle: true,
      egressCidrs: [],
    },
    airflow: { dagsDir: 'dags' },
    components: Object.fromEntries(COMPONENT_IDS.map((id) => [id, { enabled: true }])),
    timeouts: { clusterCreateSeconds: 600, nodesReadySeconds: 300, componentSeconds: 600 },
  };
}
