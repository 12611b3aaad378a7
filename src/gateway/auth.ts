import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { AuthenticationError, RateLimitError } from "../shared/errors.js";

export interface RateLimitPolicy {
  maxAttempts: number;
  windowMs: number;
  lockoutMs: number;
}

interface ClientFailures {
  failures: number[];
  lockedUntil: number;
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/**
 * `Authorization: Bearer <token or password>`, compared in constant time. With a rate-limit
 * policy, a client (by address) with `maxAttempts` failures inside `windowMs` is refused with
 * 429 + Retry-After for `lockoutMs`, even with the right secret.
 */
export class GatewayAuth {
  private expected: Buffer;
  private readonly clients = new Map<string, ClientFailures>();

  constructor(
    secret: string,
    private mode: "token" | "password",
    private rateLimit: RateLimitPolicy | undefined,
    private readonly now: () => number = Date.now,
  ) {
    this.expected = digest(secret);
  }

  /** New settings from a config reload; who is locked out stays locked out. */
  update(secret: string, mode: "token" | "password", rateLimit: RateLimitPolicy | undefined): void {
    this.expected = digest(secret);
    this.mode = mode;
    this.rateLimit = rateLimit;
  }

  check(request: IncomingMessage): void {
    const client = request.socket.remoteAddress ?? "unknown";
    const state = this.rateLimit ? this.clients.get(client) : undefined;
    const now = this.now();
    if (state && state.lockedUntil > now) {
      throw new RateLimitError("too many failed authentication attempts; try again later", {
        retryAfterSeconds: Math.ceil((state.lockedUntil - now) / 1000),
        code: "auth_rate_limited",
      });
    }
    const header = request.headers.authorization;
    const match = header ? /^Bearer\s+(.+)$/i.exec(header) : null;
    if (match && timingSafeEqual(digest((match[1] as string).trim()), this.expected)) {
      if (state) this.clients.delete(client);
      return;
    }
    this.recordFailure(client, now);
    throw new AuthenticationError(
      match
        ? `invalid gateway ${this.mode}`
        : `missing bearer ${this.mode}: send Authorization: Bearer <gateway ${this.mode}> (openclaw gateway token prints it)`,
      { code: match ? "invalid_api_key" : "missing_api_key" },
    );
  }

  private recordFailure(client: string, now: number): void {
    if (!this.rateLimit) return;
    const { maxAttempts, windowMs, lockoutMs } = this.rateLimit;
    const state = this.clients.get(client) ?? { failures: [], lockedUntil: 0 };
    state.failures = state.failures.filter((at) => now - at < windowMs);
    state.failures.push(now);
    if (state.failures.length >= maxAttempts) {
      state.lockedUntil = now + lockoutMs;
      state.failures = [];
    }
    this.clients.set(client, state);
    if (this.clients.size > 10_000) this.prune(now);
  }

  private prune(now: number): void {
    for (const [client, state] of this.clients) if (state.lockedUntil <= now && state.failures.length === 0) this.clients.delete(client);
  }
}
