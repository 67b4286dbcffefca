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

export const TOOL_PINS: Record<PinnedTool, ToolPin> = {
  kind: {
    version: 'v0.33.0',
    file: (p) => `kind-${p}`,
    officialUrl: (p) => `https://kind.sigs.k8s.io/dl/v0.33.0/kind-${p}`,
    // The release's kind-<platform>.sha256sum files.
    sha256: {
      'linux-amd64': 'aee6151561422756b764a4ae28e7f44cda5af5a9eead3cc9985112b1de8d8e0d',
      'linux-arm64': '20022bee6cfcd5086cb7234d218e3454e6090022f2a8f55d1fa7fcf42c3867a2',
      'darwin-amd64': '5a99f26f57246dc9319dd294803313197a0f34d33c525b3ea8b655db5916ece0',
      'darwin-arm64': '0c8c7dbe5e23594a198b786c4bc13dacc101fa6196b0cb0b23a1ca44e61f4b4f',
    },
    manual: '`go install sigs.k8s.io/kind@v0.33.0`, or https://kind.sigs.k8s.io/docs/user/quick-start/#installation',
  },
  helm: {
    // v4.3.0 rather than the newest patch: its published sums could be checked, v4.3.1's not yet.
    version: 'v4.3.0',
    file: (p) => `helm-v4.3.0-${p}.tar.gz`,
    officialUrl: (p) => `https://get.helm.sh/helm-v4.3.0-${p}.tar.gz`,
    member: (p) => `${p}/helm`,
    // get.helm.sh's helm-v4.3.0-<platform>.tar.gz.sha256sum files.
    sha256: {
      'linux-amd64': '86584a54def73570558f66f5111cc53dfed56689637ae32c1201205d494f54fb',
      'linux-arm64': '31c5794dd55c66a51e6b7d2e2ac7a114ae8b1de41ff1d9ba51748ac973b06a08',
      'darwin-amd64': '347a784877e0e20eac865e8d1c36a80f6bb0861d6f29abd34defb6570ef95d92',
      'darwin-arm64': 'd3870437e1e95b67f8edbde964156c84a26503f560821d40c542441658934fba',
    },
    manual: 'https://helm.sh/docs/intro/install/',
  },
  kubectl: {
    version: 'v1.37.0',
    file: () => 'kubectl',
    officialUrl: (p) => `https://dl.k8s.io/release/v1.37.0/bin/${p.replace('-', '/')}/kubectl`,
    // dl.k8s.io's kubectl.sha256 files.
    sha256: {
      'linux-amd64': '6129359f4e1f3848a5572ccb0b26cf28b8ca08cef38c95a765b2f64a2c961a2f',
      'linux-arm64': '922df28df248cc00a9e025f947704f1d1482de64ece54cfe57e61f19eaf1eef3',
      'darwin-amd64': 'd5276c0f4fde77fc446070290f345944a7f1fda153df6b960e5fde93b7a9bccd',
      'darwin-arm64': '583beedaebe422e71d3f1a96acef8b1fef86ea2f09a45ad01aa6c9ce287c1380',
    },
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
 * official server (kind-linux-amd64, helm-v4.3.0-linux-amd64.tar.gz, kubectl).
 */
export function mirrorUrl(mirror: string, tool: PinnedTool, platform: ToolPlatform): string {
  const pin = TOOL_PINS[tool];
  return `${mirror.replace(/\/+$/, '')}/${tool}/${pin.version}/${platform}/${pin.file(platform)}`;
}
