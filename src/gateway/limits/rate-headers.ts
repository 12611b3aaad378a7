/**
 * OpenAI's rate-limit headers. Durations use OpenAI's (Go's) format: `20ms`, `1s`, `1.5s`,
 * `6m0s`, `1h2m3s`, rounded up to the millisecond so a client never retries early.
 */
export function formatResetDuration(ms: number): string {
  const total = Math.max(0, Math.ceil(ms));
  if (total === 0) return "0s";
  if (total < 1000) return `${total}ms`;
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = `${Number(((total % 60_000) / 1000).toFixed(3))}s`;
  if (hours > 0) return `${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${minutes}m${seconds}`;
  return seconds;
}

export interface LimitSnapshot {
  limit: number;
  remaining: number;
  /** Until the allowance is whole again. */
  resetMs: number;
}

export type RateLimitHeaders = Record<string, string>;

/** The six `x-ratelimit-*` headers, for whichever of the two limits the key has. */
export function rateLimitHeaders(requests: LimitSnapshot | undefined, tokens: LimitSnapshot | undefined): RateLimitHeaders {
  const headers: RateLimitHeaders = {};
  if (requests) {
    headers["x-ratelimit-limit-requests"] = String(requests.limit);
    headers["x-ratelimit-remaining-requests"] = String(Math.max(0, Math.floor(requests.remaining)));
    headers["x-ratelimit-reset-requests"] = formatResetDuration(requests.resetMs);
  }
  if (tokens) {
    headers["x-ratelimit-limit-tokens"] = String(tokens.limit);
    headers["x-ratelimit-remaining-tokens"] = String(Math.max(0, Math.floor(tokens.remaining)));
    headers["x-ratelimit-reset-tokens"] = formatResetDuration(tokens.resetMs);
  }
  return headers;
}

/** `Retry-After` is whole seconds: rounded up, at least 1. */
export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
