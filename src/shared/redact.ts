/**
 * Show enough of a secret to recognise it, never enough to use it:
 * "cpk_0123…a1b2" style, keeping a short type prefix such as `cpk_`, `hf_` or `sk-`.
 */
export function redactSecret(secret: string): string {
  const value = secret.trim();
  if (value.length < 12) return "…";
  const prefix = /^[A-Za-z]{2,4}[_-]/.exec(value)?.[0] ?? "";
  return `${prefix}…${value.slice(-4)}`;
}

/** `${VAR}` (alone) is a reference, not a secret: safe to show and to store in config. */
export function isEnvReference(value: string): boolean {
  return /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(value.trim());
}
