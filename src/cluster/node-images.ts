/**
 * kind node images, pinned by digest as kind's release notes require ("you must use the
 * @sha256 digest"). These are the images published for kind v0.33.0; they also work with
 * kind v0.32 (whose containerd change they need for `kind load`).
 */
export interface NodeImage {
  version: string;
  image: string;
}

export const NODE_IMAGES: readonly NodeImage[] = [
  {
    version: 'v1.37.0',
    image: 'kindest/node:v1.37.0@sha256:a1ed56cfb0e7b93589bdf97c8cd566405a265939e3620fc4f5de89adff580ae5',
  },
  {
    version: 'v1.36.4',
    image: 'kindest/node:v1.36.4@sha256:099e049362a1526b2db71494e1947aae99bd16290d7c895f2b7ea312e3cbfaed',
  },
  {
    version: 'v1.35.8',
    image: 'kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0',
  },
  {
    version: 'v1.34.11',
    image: 'kindest/node:v1.34.11@sha256:44e222ee2132dab25ff87301682f89eb82c7880ea3a1bf543bfe9708fd08d67d',
  },
];

export const DEFAULT_KUBERNETES_VERSION = 'v1.37.0';

/** Kubernetes 1.35 removed cgroup v1 support from the kubelet; older images still run there. */
export const NEWEST_FOR_CGROUP_V1 = 'v1.34.11';

export function minorOf(version: string): number {
  return Number(/^v?1\.(\d+)/.exec(version)?.[1] ?? NaN);
}

export function supportsCgroupV1(version: string): boolean {
  return minorOf(version) <= 34;
}

/** "1.35", "v1.35" and "v1.35.8" all select the pinned v1.35.8 image. */
export function findNodeImage(version: string): NodeImage | undefined {
  const wanted = version.startsWith('v') ? version : `v${version}`;
  return NODE_IMAGES.find((n) => n.version === wanted || n.version.startsWith(`${wanted}.`));
}
