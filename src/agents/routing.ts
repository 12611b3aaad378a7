import type { OpenClawConfig } from "../config/schema.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../shared/retry-policy.js";

export const DEFAULT_FIRST_BYTE_TIMEOUT_MS = 30_000;
export const DEFAULT_COOLDOWN_FAILURES = 3;
export const DEFAULT_COOLDOWN_MS = 60_000;

/**
 * Cooldowns shared with other replicas (Redis): failures are counted there too, and a cooldown
 * started anywhere reaches every replica through `subscribe`, so the check stays a local read.
 */
export interface SharedCooldowns {
  /** `started`: this replica's own count started a cooldown (it is announced whatever the shared count says). */
  failed(ref: string, threshold: number, cooldownMs: number, started: boolean): void;
  succeeded(ref: string): void;
  subscribe(listener: (cooldown: { ref: string; remainingMs: number }) => void): () => void;
}

/**
 * Models that keep failing, skipped for a while across requests. A model "fails" when a request
 * gave up on it (its retries spent, or a timeout); a success clears its count. One map entry per
 * failing model, dropped when it recovers: O(1) per call. Per process unless `shared` is given.
 */
export class ModelCooldowns {
  private readonly failing = new Map<string, { count: number; until: number }>();

  constructor(
    private readonly shared?: SharedCooldowns,
    now: () => number = Date.now,
  ) {
    shared?.subscribe(({ ref, remainingMs }) => {
      const entry = this.failing.get(ref) ?? { count: 0, until: 0 };
      entry.until = Math.max(entry.until, now() + remainingMs);
      this.failing.set(ref, entry);
    });
  }

  /** Milliseconds the model stays skipped, or 0. */
  coolingFor(ref: string, now: number): number {
    const entry = this.failing.get(ref);
    return entry && entry.until > now ? entry.until - now : 0;
  }

  /** Returns true when this failure starts a cooldown. */
  failed(ref: string, now: number, threshold: number, cooldownMs: number): boolean {
    if (threshold <= 0) return false;
    const entry = this.failing.get(ref) ?? { count: 0, until: 0 };
    entry.count++;
    this.failing.set(ref, entry);
    const started = entry.count >= threshold;
    this.shared?.failed(ref, threshold, cooldownMs, started);
    if (!started) return false;
    entry.count = 0;
    entry.until = now + cooldownMs;
    return true;
  }

  succeeded(ref: string): void {
    // Only a model that failed here clears the shared count: a success costs nothing remote.
    if (this.failing.size > 0 && this.failing.delete(ref)) this.shared?.succeeded(ref);
  }
}

/** gateway.routing, resolved, with the state that outlives a request (the cooldowns). */
export interface RoutingPolicy {
  retry: RetryPolicy;
  /** 0 = no budget (the upstream timeout alone). */
  firstByteTimeoutMs: number;
  cooldownFailures: number;
  cooldownMs: number;
  cooldowns: ModelCooldowns;
  now: () => number;
}

/** The policy from the config; `previous` keeps its cooldowns across a config reload. */
export function routingPolicy(
  config: OpenClawConfig,
  previous?: RoutingPolicy,
  now: () => number = Date.now,
  cooldowns?: ModelCooldowns,
): RoutingPolicy {
  const routing = config.gateway?.routing;
  return {
    retry: {
      retries: routing?.retries ?? DEFAULT_RETRY_POLICY.retries,
      baseDelayMs: routing?.retryBaseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
      maxDelayMs: routing?.retryMaxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
    },
    firstByteTimeoutMs: routing?.firstByteTimeoutMs ?? DEFAULT_FIRST_BYTE_TIMEOUT_MS,
    cooldownFailures: routing?.cooldownFailures ?? DEFAULT_COOLDOWN_FAILURES,
    cooldownMs: (routing?.cooldownSeconds ?? DEFAULT_COOLDOWN_MS / 1000) * 1000,
    cooldowns: previous?.cooldowns ?? cooldowns ?? new ModelCooldowns(),
    now,
  };
}

/** One routing decision, for the log (with the request id). */
export type RoutingDecision =
  | { decision: "retry"; model: string; attempt: number; delayMs: number; error: string }
  | { decision: "fallback"; model: string; next: string; error: string }
  | { decision: "cooldown"; model: string; seconds: number }
  | { decision: "cooldown-skip"; model: string; remainingMs: number }
  | { decision: "first-byte-timeout"; model: string; timeoutMs: number };
