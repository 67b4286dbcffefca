/** Versions of the tools koala drives, parsed from what each prints. */
export interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

export function parseVersion(text: string): SemVer | undefined {
  const m = /v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) } : undefined;
}

export function compareVersions(a: SemVer, b: SemVer): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

export function atLeast(version: SemVer, min: string): boolean {
  return compareVersions(version, parseVersion(min)!) >= 0;
}

export function formatVersion(v: SemVer): string {
  return `v${v.major}.${v.minor}.${v.patch}`;
}
