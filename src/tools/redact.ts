/**
 * Secrets are registered here as soon as they are generated or loaded, and every line koala
 * prints about a command (verbose output, error tails, JSON) passes through `redact`.
 */
const secrets = new Set<string>();
export const REDACTED = '<redacted>';

/** Register a secret value. Very short values are ignored: masking them would garble output. */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** For tests. */
export function clearSecrets(): void {
  secrets.clear();
}
