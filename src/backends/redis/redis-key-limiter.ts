import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { AcquireInput, Admission, KeyLimiter, KeyLimits, LimitKind, Reservation } from "../../gateway/limits/key-limiter.js";
import { rateLimitHeaders } from "../../gateway/limits/rate-headers.js";
import { RateLimitError } from "../../shared/errors.js";
import { budgetWindow } from "../../store/key-store.js";
import type { RedisHealth } from "./connection.js";
import { ACQUIRE_SCRIPT, RENEW_SCRIPT, SETTLE_SCRIPT } from "./limiter-scripts.js";

/**
 * A parallel slot is a lease: a replica killed while holding slots stops renewing them, and they
 * free themselves this long after (never forever). Live ones are renewed every third of it.
 */
export const DEFAULT_LEASE_MS = 30_000;

type Reply = [string, string, string, string, string, string, string];

interface LimiterCommands {
  openclawAcquire(k1: string, k2: string, k3: string, ...args: Array<string | number>): Promise<Reply>;
  openclawSettle(k1: string, k2: string, k3: string, ...args: Array<string | number>): Promise<number>;
  openclawRenew(k1: string, ...args: Array<string | number>): Promise<number>;
}

export interface RedisKeyLimiterOptions {
  /** The ledger's spend since a time: seeds a budget counter Redis does not have yet. */
  spendSince?: (keyId: string, since: number) => Promise<number>;
  /** Answers while Redis is unreachable in "open" mode: the in-process limiter (per replica). */
  fallback: KeyLimiter;
  /** "closed": refuse (503) while Redis is unreachable instead of falling back. */
  failMode: "open" | "closed";
  health: RedisHealth;
  leaseMs?: number;
  prefix?: string;
}

/** The `{id}` hash tag keeps one key's counters in one slot (a Redis Cluster runs the scripts too). */
function keysOf(prefix: string, key: KeyLimits, windowStart: number): [string, string, string] {
  const tag = `{${key.id}}`;
  return [`${prefix}limits:${tag}`, `${prefix}parallel:${tag}`, `${prefix}spend:${tag}:${windowStart}`];
}

const messages: Record<Exclude<LimitKind, "budget">, (key: KeyLimits, detail: string) => string> = {
  parallel: (key, detail) => `this key already has ${detail} requests in progress (limit ${key.maxParallel})`,
  requests: (key) => `rate limit reached: ${key.rpm} requests per minute for this key`,
  tokens: (key) => `rate limit reached: ${key.tpm} tokens per minute for this key`,
};

/**
 * Per-key limits shared by every replica: RPM/TPM buckets, parallel leases and budget counters
 * in Redis, each acquire and each settle one atomic script. When Redis does not answer, "open"
 * falls back to the in-process limiter (each replica enforces the limits on its own traffic,
 * so N replicas admit at most N× a limit until Redis is back) and "closed" refuses with a 503.
 */
export class RedisKeyLimiter implements KeyLimiter {
  private readonly commands: LimiterCommands;
  private readonly leaseMs: number;
  private readonly prefix: string;
  /** Live parallel leases (member → its zset), renewed together on one timer. */
  private readonly leases = new Map<string, string>();
  private readonly renewTimer: NodeJS.Timeout;

  constructor(
    private readonly redis: Redis,
    private readonly options: RedisKeyLimiterOptions,
  ) {
    redis.defineCommand("openclawAcquire", { numberOfKeys: 3, lua: ACQUIRE_SCRIPT });
    redis.defineCommand("openclawSettle", { numberOfKeys: 3, lua: SETTLE_SCRIPT });
    redis.defineCommand("openclawRenew", { numberOfKeys: 1, lua: RENEW_SCRIPT });
    this.commands = redis as unknown as LimiterCommands;
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.prefix = options.prefix ?? "openclaw:";
    this.renewTimer = setInterval(() => this.renew(), Math.max(100, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
  }

  close(): void {
    clearInterval(this.renewTimer);
  }

  async acquire(input: AcquireInput): Promise<Admission> {
    if (this.redis.status !== "ready") return this.unshared(input, new Error(`connection ${this.redis.status}`));
    try {
      let admission = await this.tryAcquire(input);
      if (admission === "seed") {
        await this.seed(input.key, input.now);
        admission = await this.tryAcquire(input);
      }
      this.options.health.succeeded();
      // A counter that vanished twice in a row (a flush between the calls): admit rather than loop.
      if (admission === "seed") return this.options.fallback.acquire(input);
      return admission;
    } catch (error) {
      if (error instanceof RateLimitError) throw error;
      return this.unshared(input, error);
    }
  }

  private unshared(input: AcquireInput, error: unknown): Promise<Admission> {
    if (this.options.failMode === "closed") {
      this.options.health.failed(error, "limited keys are refused (gateway.state.redisFailMode is closed)");
      throw new RateLimitError(
        "the gateway cannot check this key's limits right now (its shared state is unreachable); try again shortly",
        {
          status: 503,
          type: "api_error",
          code: "limits_unavailable",
          retryAfterSeconds: 1,
        },
      );
    }
    this.options.health.failed(error, "key limits fall back to this replica's own counters");
    return this.options.fallback.acquire(input);
  }

  private async tryAcquire({ key, estimateTokens, now }: AcquireInput): Promise<Admission | "seed"> {
    const window = budgetWindow(key, now);
    const keys = keysOf(this.prefix, key, window.start);
    const estimate = Math.max(0, Math.ceil(estimateTokens));
    const member = key.maxParallel ? randomUUID() : "";
    const reply = await this.commands.openclawAcquire(
      ...keys,
      key.rpm ?? 0,
      key.tpm ?? 0,
      key.maxParallel ?? 0,
      key.budget?.usd ?? 0,
      estimate,
      this.leaseMs,
      member,
    );
    const [verdict, rl, rReset, tl, tReset, retry, detail] = reply;
    if (verdict === "seed") return "seed";
    const headers = rateLimitHeaders(
      key.rpm ? { limit: key.rpm, remaining: Number(rl), resetMs: Number(rReset) } : undefined,
      key.tpm ? { limit: key.tpm, remaining: Number(tl), resetMs: Number(tReset) } : undefined,
    );
    if (verdict === "budget") {
      const period = key.budget?.period === "total" ? "" : ` this ${key.budget?.period} period`;
      return {
        ok: false,
        limit: "budget",
        message: `this key has used its budget of $${key.budget?.usd}${period}`,
        retryAfterMs: Number.isFinite(window.end) ? window.end - now : undefined,
        headers,
      };
    }
    if (verdict !== "ok") {
      const limit = verdict as Exclude<LimitKind, "budget">;
      return { ok: false, limit, message: messages[limit](key, detail), retryAfterMs: Number(retry), headers };
    }
    if (member) this.leases.set(member, keys[1]);
    return { ok: true, reservation: this.reservation(key, keys, estimate, member), headers };
  }

  /** The budget counter for this window, from the ledger, unless a replica set it first. */
  private async seed(key: KeyLimits, now: number): Promise<void> {
    const window = budgetWindow(key, now);
    const usd = this.options.spendSince ? await this.options.spendSince(key.id, window.start) : 0;
    const [, , spendKey] = keysOf(this.prefix, key, window.start);
    // A window's counter outlives the window by a day; a `total` budget's lives on.
    if (Number.isFinite(window.end)) await this.redis.set(spendKey, String(usd), "PX", Math.max(1, window.end - now + 86_400_000), "NX");
    else await this.redis.set(spendKey, String(usd), "NX");
  }

  private reservation(key: KeyLimits, keys: [string, string, string], estimate: number, member: string): Reservation {
    let done = false;
    const finish = () => {
      if (done) return false;
      done = true;
      if (member) this.leases.delete(member);
      return true;
    };
    return {
      keyId: key.id,
      estimateTokens: estimate,
      settle: (usage, _now) => {
        if (!finish()) return;
        const cost = usage.cost && key.budget ? usage.cost : 0;
        if (!key.tpm && !member && !cost) return;
        this.commands
          .openclawSettle(...keys, key.tpm ?? 0, estimate, Math.max(0, usage.tokens), cost, member)
          .catch((error) => this.options.health.failed(error, "a settle was lost (its lease frees itself)"));
      },
      release: () => {
        if (!finish() || !member) return;
        this.redis.zrem(keys[1], member).catch((error) => this.options.health.failed(error, "a release was lost (its lease frees itself)"));
      },
    };
  }

  private renew(): void {
    if (this.leases.size === 0 || this.redis.status !== "ready") return;
    const bySet = new Map<string, string[]>();
    for (const [member, set] of this.leases) {
      const members = bySet.get(set);
      if (members) members.push(member);
      else bySet.set(set, [member]);
    }
    for (const [set, members] of bySet) this.commands.openclawRenew(set, this.leaseMs, ...members).catch(() => undefined);
  }

  async seedSpend(keyId: string, windowStart: number, usd: number): Promise<void> {
    await this.options.fallback.seedSpend(keyId, windowStart, usd);
    if (this.redis.status !== "ready") return;
    // Forty days outlives any window but `total`, whose counter is then read again from the ledger.
    await this.redis.set(`${this.prefix}spend:{${keyId}}:${windowStart}`, String(usd), "PX", 40 * 86_400_000, "NX").catch(() => undefined);
  }

  async spent(key: KeyLimits, now: number): Promise<number> {
    if (this.redis.status !== "ready") return this.options.fallback.spent(key, now);
    try {
      const [, , spendKey] = keysOf(this.prefix, key, budgetWindow(key, now).start);
      const value = await this.redis.get(spendKey);
      return value === null ? this.options.fallback.spent(key, now) : Number(value);
    } catch {
      return this.options.fallback.spent(key, now);
    }
  }
}
