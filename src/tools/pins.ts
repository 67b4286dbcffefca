/**
 * The versions of kind, helm and kubectl koala fetches (`koala tools install`), with the SHA-256
 * of each release file. The sums live here, in koala's source, and never come from the server
 * that serves the file: a mirror or a tampered download cannot vouch for itself.
 */

export type PinnedTool = 'kind' | 'helm' | 'kubectl';
export const PINNED_TOOLS: readonly PinnedTool[] = ['kind', 'helm', 'kubectl'];

export type ToolPlatform = 'linux-amd64' | 'linux-arm64' | 'darwin-amd64' | 'darwin-arm64';
export const TOOL_PLATFORMS: readonly ToolPlatform[] = ['linux-amd64', 'linux-arm64', 'darwin-amd64', 'darwin-arm64'];

export interface ToolPin {
  version: string;
  /** The release file's name on its official server and on a mirror. */
  file: (platform: ToolPlatform) => string;
  /** Where the project publishes it. */
  officialUrl: (platform: ToolPlatform) => string;
  /** helm ships a tarball; the binary is this member of it. */
  member?: (platform: ToolPlatform) => string;
  /**
   * SHA-256 of the release file per platform. `undefined` means the sum has not been checked
   * against the project's published one yet: koala refuses to install such a pin from the
   * official URL (it never skips verification); a mirror with its own sums in koala.yaml
   * (tools.sha256) still works.
   */
  sha256: Record<ToolPlatform, string | undefined>;
  /** The official way to install it by hand, for preflight's fix when koala cannot fetch it. */
  manual: string;
}

const UNVERIFIED: Record<ToolPlatform, undefined> = {
  'linux-amd64': undefined,
  'linux-arm64': undefined,
  'darwin-amd64': undefined,
  'darwin-arm64': undefined,
};

export const TOOL_PINS: Record<PinnedTool, ToolPin> = {
  kind: {
    version: 'v0.33.0',
    file: (p) => `kind-${p}`,
    officialUrl: (p) => `https://kind.sigs.k8s.io/dl/v0.33.0/kind-${p}`,
    sha256: { ...UNVERIFIED },
    manual: '`go install sigs.k8s.io/kind@v0.33.0`, or https://kind.sigs.k8s.io/docs/user/quick-start/#installation',
  },
  helm: {
    version: 'v4.3.1',
    file: (p) => `helm-v4.3.1-${p}.tar.gz`,
    officialUrl: (p) => `https://get.helm.sh/helm-v4.3.1-${p}.tar.gz`,
    member: (p) => `${p}/helm`,
    sha256: { ...UNVERIFIED },
    manual: 'https://helm.sh/docs/intro/install/',
  },
  kubectl: {
    version: 'v1.37.0',
    file: () => 'kubectl',
    officialUrl: (p) => `https://dl.k8s.io/release/v1.37.0/bin/${p.replace('-', '/')}/kubectl`,
    sha256: { ...UNVERIFIED },
    manual: 'https://kubernetes.io/docs/tasks/tools/',
  },
};

/** The platform of this machine in release-file terms, or undefined where no release is published. */
export function currentPlatform(
  platform: NodeJS.Platform = process.platform,
  arch: string = process.arch,
): ToolPlatform | undefined {
  const os = platform === 'linux' || platform === 'darwin' ? platform : undefined;
  const cpu = arch === 'x64' ? 'amd64' : arch === 'arm64' ? 'arm64' : undefined;
  return os && cpu ? (`${os}-${cpu}` as ToolPlatform) : undefined;
}

/**
 * A mirror's URL of a release file: `<mirror>/<tool>/<version>/<platform>/<file>`, the file named as on the
 * official server (kind-linux-amd64, helm-v4.3.1-linux-amd64.tar.gz, kubectl).
 */
export function mirrorUrl(mirror: string, tool: PinnedTool, platform: ToolPlatform): string {
  const pin = TOOL_PINS[tool];
  return `${mirror.replace(/\/+$/, '')}/${tool}/${pin.version}/${platform}/${pin.file(platform)}`;
}
