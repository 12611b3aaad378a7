import { UpstreamError } from "./errors.js";

/**
 * When and how long to wait before calling the same model again. The one place this is
 * decided: run-chat asks here, nobody else retries an upstream call.
 */
export interface RetryPolicy {
  /** Extra attempts on the same model (0 = none). */
  retries: number;
  /** First backoff; doubled per retry. */
  baseDelayMs: number;
  /** Longest wait; an upstream asking for longer (Retry-After) is not waited for: the caller falls back. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { retries: 2, baseDelayMs: 500, maxDelayMs: 10_000 };

/**
 * Worth the same model again: a 429 or a 5xx from the upstream, or a connection that failed.
 * Not a timeout (a hung model hangs again: the next model is the better bet) and not a 4xx
 * (the same request fails the same way).
 */
export function isRetryable(error: unknown): error is UpstreamError {
  if (!(error instanceof UpstreamError)) return false;
  const status = error.upstreamStatus;
  if (status !== undefined) return status === 429 || status >= 500;
  return error.code === "upstream_unreachable";
}

/**
 * Milliseconds to wait before retry number `retry` (0 for the first retry), or undefined when no
 * retry should happen (retries used up, not retryable, or Retry-After beyond `maxDelayMs`).
 * Exponential backoff with "equal jitter" (half fixed, half random) so that clients failing
 * together do not come back together; an upstream's Retry-After is a floor, never shortened.
 */
export function retryDelay(policy: RetryPolicy, retry: number, error: unknown, random: () => number = Math.random): number | undefined {
  if (retry >= policy.retries || !isRetryable(error)) return undefined;
  const backoff = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry);
  const jittered = backoff / 2 + random() * (backoff / 2);
  const asked = error.retryAfterSeconds;
  if (asked === undefined || !Number.isFinite(asked) || asked < 0) return Math.round(jittered);
  const askedMs = asked * 1000;
  if (askedMs > policy.maxDelayMs) return undefined;
  return Math.round(Math.max(askedMs, jittered));
}

/** Wait `ms`, or less when `signal` aborts (then resolves false). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const done = (completed: boolean) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(completed);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
