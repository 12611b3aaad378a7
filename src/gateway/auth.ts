import { hash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { AuthenticationError, RateLimitError } from "../shared/errors.js";
import { KeyIndex } from "../store/key-index.js";
import type { KeyRecord } from "../store/key-store.js";
import { LOOPBACK_CLIENT, socketClientKey } from "./client-address.js";
import { FailureLimiter, type LockoutPolicy, type SharedFailures } from "./lockout.js";

export interface RateLimitPolicy extends LockoutPolicy {
  /** Loopback clients are never locked out (every local user is trusted). */
  exemptLoopback: boolean;
}

// One-shot hashing: no Hash object per request.
const digest = (value: string) => hash("sha256", value, "buffer");

/**
 * `Authorization: Bearer <token or password>`, compared in constant time. With a rate-limit
 * policy, failures are counted per client (an IPv4 address, an IPv6 /64, or loopback as one)
 * and across all clients (see FailureLimiter); a locked-out client is refused with 429 +
 * Retry-After before its secret is looked at, so a lockout answers no guesses.
 */
export class GatewayAuth {
  private expected: Buffer;
  private limiter: FailureLimiter | undefined;
  private shared: SharedFailures | undefined;
  /** Virtual keys (`ock_…`), when the gateway has a key store: a live view, reloaded when the keys change. */
  keys: { readonly current: KeyIndex } | undefined;
  /** Told of each request a lockout refuses (for the metrics). */
  onLockedOut: ((global: boolean) => void) | undefined;

  constructor(
    secret: string,
    private mode: "token" | "password",
    private rateLimit: RateLimitPolicy | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.expected = digest(secret);
    if (rateLimit) this.limiter = new FailureLimiter(rateLimit, now);
  }

  /**
   * The digest of the secret in force. The dashboard keeps a copy per signed-in session and
   * compares it on each call, so that changing the token or password ends those sessions.
   */
  get secretDigest(): Buffer {
    return this.expected;
  }

  /**
   * Count failures with other replicas (Redis) and hold the lockouts they start. Lockouts are
   * installed in whichever limiter is current, so a config reload keeps the subscription.
   */
  shareFailures(shared: SharedFailures): () => void {
    this.shared = shared;
    if (this.rateLimit) this.limiter = new FailureLimiter(this.rateLimit, this.now, undefined, shared);
    return shared.subscribe(({ client, retryAfterMs }) => this.limiter?.lockFromPeer(client, retryAfterMs));
  }

  /** New settings from a config reload; who is locked out stays locked out. */
  update(secret: string, mode: "token" | "password", rateLimit: RateLimitPolicy | undefined): void {
    this.expected = digest(secret);
    this.mode = mode;
    this.rateLimit = rateLimit;
    if (!rateLimit) this.limiter = undefined;
    else if (this.limiter) this.limiter.update(rateLimit);
    else this.limiter = new FailureLimiter(rateLimit, this.now, undefined, this.shared);
  }

  /**
   * The caller: null for the gateway token (the operator), else the virtual key it presented.
   * An unknown, revoked or expired key is a failed attempt like a wrong token.
   */
  check(request: IncomingMessage): KeyRecord | null {
    const client = this.limiter ? socketClientKey(request.socket) : "";
    const limiter = this.rateLimit?.exemptLoopback && client === LOOPBACK_CLIENT ? undefined : this.limiter;
    const verdict = limiter?.check(client);
    if (verdict?.locked) {
      this.onLockedOut?.(verdict.global);
      throw new RateLimitError(
        verdict.global
          ? "too many failed authentication attempts on this gateway; try again later"
          : "too many failed authentication attempts; try again later",
        { retryAfterSeconds: Math.ceil(verdict.retryAfterMs / 1000), code: "auth_rate_limited" },
      );
    }
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
    const presented = match ? (match[1] as string).trim() : undefined;
    let keyRefusal: string | undefined;
    if (presented !== undefined && this.keys && KeyIndex.looksLikeKey(presented)) {
      const verdict = this.keys.current.check(presented, this.now());
      if (verdict.ok) {
        limiter?.succeeded(client);
        return verdict.key;
      }
      // Revoked and expired are told apart (the holder may ask for a new key); a wrong secret is not.
      keyRefusal = verdict.reason === "unknown" ? "invalid API key" : `this API key is ${verdict.reason}`;
    } else if (presented !== undefined && timingSafeEqual(digest(presented), this.expected)) {
      limiter?.succeeded(client);
      return null;
    }
    limiter?.failed(client);
    throw new AuthenticationError(
      keyRefusal ??
        (match
          ? `invalid gateway ${this.mode}`
          : `missing bearer ${this.mode}: send Authorization: Bearer <gateway ${this.mode}> (openclaw gateway token prints it)`),
      { code: match ? "invalid_api_key" : "missing_api_key" },
    );
  }
}
