export interface LockoutPolicy {
  /** Failures from one client within `windowMs` that lock it out. */
  maxAttempts: number;
  windowMs: number;
  lockoutMs: number;
  /** Failures from all clients together within `windowMs` that lock out every client not recently authenticated. */
  globalMaxAttempts: number;
}

interface ClientState {
  failures: number;
  windowStart: number;
  lockedUntil: number;
}

/** Most clients remembered at once (failing, or recently authenticated); the oldest go first. */
export const MAX_TRACKED_CLIENTS = 10_000;

/** How long a client that authenticated stays trusted during a global lockout. */
export const TRUSTED_FOR_MS = 24 * 60 * 60 * 1000;

/**
 * Failures and lockouts shared with other replicas (Redis). The check stays local and
 * synchronous: failures are counted here and there, and a lockout started anywhere reaches
 * every replica through `subscribe` (this one included), where it is installed locally.
 */
export interface SharedFailures {
  failed(client: string, policy: LockoutPolicy): void;
  succeeded(client: string): void;
  /** Lockouts as they start anywhere: `client` undefined is the global lockout. Returns an unsubscribe. */
  subscribe(listener: (lock: { client: string | undefined; retryAfterMs: number }) => void): () => void;
}

export type LockoutVerdict = { locked: false } | { locked: true; retryAfterMs: number; global: boolean };

/** A Map used as an LRU: re-inserting moves a key to the end, so the first key is the least recently touched. */
function touch<V>(map: Map<string, V>, key: string, value: V, cap: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > cap) map.delete(map.keys().next().value as string);
}

/**
 * Failed-authentication accounting with bounded memory and O(1) work per request: a fixed window
 * of failures per client, a lockout when a client exceeds it, and a global budget across all
 * clients so that rotating source addresses does not multiply guesses. During a global lockout,
 * clients that authenticated recently keep being checked (with their own budget), so an attacker
 * cannot lock the operator out from elsewhere, and gains nothing it would not have anyway.
 */
export class FailureLimiter {
  private readonly clients = new Map<string, ClientState>();
  private readonly trusted = new Map<string, number>();
  private globalFailures = 0;
  private globalWindowStart = 0;
  private globalLockedUntil = 0;

  constructor(
    private policy: LockoutPolicy,
    private readonly now: () => number = Date.now,
    private readonly maxTracked = MAX_TRACKED_CLIENTS,
    private readonly shared?: SharedFailures,
  ) {}

  /** A lockout another replica started (or this one, echoed back): it holds here as well. */
  lockFromPeer(client: string | undefined, retryAfterMs: number): void {
    const until = this.now() + retryAfterMs;
    if (client === undefined) {
      this.globalLockedUntil = Math.max(this.globalLockedUntil, until);
      return;
    }
    const state = this.clients.get(client) ?? { failures: 0, windowStart: this.now(), lockedUntil: 0 };
    state.lockedUntil = Math.max(state.lockedUntil, until);
    touch(this.clients, client, state, this.maxTracked);
  }

  update(policy: LockoutPolicy): void {
    this.policy = policy;
  }

  /** How many clients are remembered (for tests and diagnostics). */
  get size(): number {
    return this.clients.size + this.trusted.size;
  }

  check(client: string): LockoutVerdict {
    const now = this.now();
    const state = this.clients.get(client);
    if (state && state.lockedUntil > now) return { locked: true, retryAfterMs: state.lockedUntil - now, global: false };
    if (this.globalLockedUntil > now && !this.isTrusted(client, now))
      return { locked: true, retryAfterMs: this.globalLockedUntil - now, global: true };
    return { locked: false };
  }

  succeeded(client: string): void {
    // Only a client that failed here is cleared in the shared count: a success costs nothing remote.
    if (this.clients.size > 0 && this.clients.delete(client)) this.shared?.succeeded(client);
    const now = this.now();
    // Renewed at most once a minute: most requests only read the map.
    if ((this.trusted.get(client) ?? 0) - now < TRUSTED_FOR_MS - 60_000) touch(this.trusted, client, now + TRUSTED_FOR_MS, this.maxTracked);
  }

  failed(client: string): void {
    const now = this.now();
    const { maxAttempts, windowMs, lockoutMs, globalMaxAttempts } = this.policy;
    this.sweep(now);
    const state = this.clients.get(client);
    const current =
      state && now - state.windowStart < windowMs ? state : { failures: 0, windowStart: now, lockedUntil: state?.lockedUntil ?? 0 };
    current.failures++;
    if (current.failures >= maxAttempts) {
      current.lockedUntil = now + lockoutMs;
      current.failures = 0;
      current.windowStart = now;
    }
    touch(this.clients, client, current, this.maxTracked);
    this.shared?.failed(client, this.policy);

    if (now - this.globalWindowStart >= windowMs) {
      this.globalWindowStart = now;
      this.globalFailures = 0;
    }
    if (++this.globalFailures >= globalMaxAttempts) {
      this.globalLockedUntil = now + lockoutMs;
      this.globalFailures = 0;
      this.globalWindowStart = now;
    }
  }

  private isTrusted(client: string, now: number): boolean {
    const until = this.trusted.get(client);
    if (until === undefined) return false;
    if (until > now) return true;
    this.trusted.delete(client);
    return false;
  }

  /** Drop a few expired entries from the old end: amortised O(1), and the cap bounds the rest. */
  private sweep(now: number): void {
    const { windowMs } = this.policy;
    for (let i = 0; i < 2; i++) {
      const first = this.clients.entries().next().value;
      if (!first) break;
      const [key, state] = first;
      if (state.lockedUntil > now || now - state.windowStart < windowMs) break;
      this.clients.delete(key);
    }
  }
}
