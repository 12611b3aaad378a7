/**
 * Upstream text that leaves the provider client (error messages, relayed answers) may echo the
 * credentials we sent: some servers quote the `Authorization` header back in their 401/400 bodies.
 * Scrubbing happens once, at the client boundary.
 */
export const REDACTED = "[redacted]";

/**
 * Shapes of credentials in error texts, whoever they belong to: `Bearer …`/`Basic …` header values
 * and the key prefixes of common providers (Chutes `cpk_`, Hugging Face `hf_`, OpenAI/Anthropic/
 * DeepSeek `sk-`/`sk_`, Stripe-style `rk_`/`pk_`, GitHub `ghp_`/`gho_`/`github_pat_`, Slack `xox?-`,
 * Groq `gsk_`, Replicate `r8_`, Perplexity `pplx-`, NVIDIA `nvapi-`, Fireworks `fw_`, Google `AIza`).
 */
const CREDENTIAL_SHAPES =
  /\b(?:(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}|(?:cpk_|hf_|sk-|sk_|rk_|pk_|ghp_|gho_|github_pat_|xox[abprs]-|gsk_|r8_|pplx-|nvapi-|fw_|AIza)[A-Za-z0-9._-]{8,})/g;

/** Shorter values are not worth scrubbing (and `true` from `X-TEE-Only` must survive). */
const MIN_SECRET_LENGTH = 8;

/** The request's own credentials, as the upstream could echo them (raw, and percent-encoded). */
export function credentialVariants(values: Iterable<string | undefined>): string[] {
  const secrets = new Set<string>();
  for (const value of values) {
    const trimmed = value?.trim();
    if (!trimmed || trimmed.length < MIN_SECRET_LENGTH) continue;
    secrets.add(trimmed);
    const encoded = encodeURIComponent(trimmed);
    if (encoded !== trimmed) secrets.add(encoded);
    // A JSON body quoting a secret escapes `"` and `\`, and some servers `/` too.
    const quoted = JSON.stringify(trimmed).slice(1, -1);
    if (quoted !== trimmed) secrets.add(quoted);
    if (quoted.includes("/")) secrets.add(quoted.replaceAll("/", "\\/"));
  }
  // Longest first, so a secret containing another is replaced whole.
  return [...secrets].sort((a, b) => b.length - a.length);
}

/** The exact credentials removed: for answers, where a shape match could be legitimate content. */
export function scrubExact(text: string, secrets: readonly string[]): string {
  let result = text;
  for (const secret of secrets) if (result.includes(secret)) result = result.split(secret).join(REDACTED);
  return result;
}

/** Whether any exact credential occurs in `text`: the cheap check for the hot path. */
export function containsSecret(text: string, secrets: readonly string[]): boolean {
  for (const secret of secrets) if (text.includes(secret)) return true;
  return false;
}

/** For error texts: the exact credentials, then anything shaped like one. */
export function scrubErrorText(text: string, secrets: readonly string[]): string {
  return scrubExact(text, secrets).replace(CREDENTIAL_SHAPES, (match) =>
    /^(Bearer|Basic)\s/i.test(match) ? `${match.split(/\s/)[0]} ${REDACTED}` : REDACTED,
  );
}

/** Header (and query parameter) names whose values are credentials, whatever a provider calls them. */
export const CREDENTIAL_NAME = /auth|key|token|secret|passw|cookie|signature|credential|session/i;

export function credentialHeaderValues(headers: Record<string, string> | undefined): string[] {
  return Object.entries(headers ?? {})
    .filter(([name]) => CREDENTIAL_NAME.test(name))
    .map(([, value]) => value);
}

/** Credentials embedded in a base URL: `https://user:pass@host/v1?api-key=…`. */
export function urlCredentials(baseUrl: string): string[] {
  if (!URL.canParse(baseUrl)) return [];
  const url = new URL(baseUrl);
  const query = [...url.searchParams].filter(([name]) => CREDENTIAL_NAME.test(name)).map(([, value]) => value);
  const decoded = (value: string) => {
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  };
  return [url.username, url.password, decoded(url.username), decoded(url.password), ...query];
}
