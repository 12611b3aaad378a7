import type { Redis } from "ioredis";
import type { LockoutPolicy, SharedFailures } from "../../gateway/lockout.js";
import type { RedisHealth } from "./connection.js";
import { EVENTS_CHANNEL, type EventChannel } from "./event-channel.js";

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: [1] the client's failures (hash n/s), [2] everyone's (hash n/s/until), [3] lockouts in
 * force (sorted set, score = end). ARGV: maxAttempts, windowMs, lockoutMs, globalMaxAttempts,
 * client, channel. The same fixed windows as FailureLimiter, over every replica's failures.
 */
const FAILED_SCRIPT = `${NOW}
local maxAttempts, windowMs, lockMs, globalMax = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local function count(key)
  local v = redis.call('HMGET', key, 'n', 's')
  local n, s = tonumber(v[1]) or 0, tonumber(v[2]) or now
  if now - s >= windowMs then n, s = 0, now end
  return n + 1, s
end
local n, s = count(KEYS[1])
if n >= maxAttempts then
  n, s = 0, now
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
  redis.call('ZADD', KEYS[3], now + lockMs, ARGV[5])
  redis.call('PUBLISH', ARGV[6], cjson.encode({kind = 'lockout', client = ARGV[5], ms = lockMs}))
end
redis.call('HSET', KEYS[1], 'n', n, 's', s)
redis.call('PEXPIRE', KEYS[1], windowMs)
local gn, gs = count(KEYS[2])
if gn >= globalMax then
  gn, gs = 0, now
  redis.call('HSET', KEYS[2], 'until', now + lockMs)
  redis.call('PUBLISH', ARGV[6], cjson.encode({kind = 'lockout', ms = lockMs}))
end
redis.call('HSET', KEYS[2], 'n', gn, 's', gs)
redis.call('PEXPIRE', KEYS[2], math.max(windowMs, lockMs))
return 1`;

/** KEYS: [1] lockouts in force, [2] the global hash. Returns [client, ms left, ...] then the global ms left (bounded). */
const IN_FORCE_SCRIPT = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local rows = redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf', 'WITHSCORES', 'LIMIT', 0, tonumber(ARGV[1]))
local out = {}
for i = 1, #rows, 2 do
  out[#out + 1] = rows[i]
  out[#out + 1] = tostring(tonumber(rows[i + 1]) - now)
end
local g = tonumber(redis.call('HGET', KEYS[2], 'until')) or 0
out[#out + 1] = tostring(math.max(0, g - now))
return out`;

interface LockoutCommands {
  openclawAuthFailed(k1: string, k2: string, k3: string, ...args: Array<string | number>): Promise<number>;
  openclawAuthInForce(k1: string, k2: string, ...args: Array<string | number>): Promise<string[]>;
}

/** Lockouts read at a (re)connect: as many as the local limiter remembers at most. */
const MAX_SYNCED = 10_000;

/**
 * Authentication failures counted across replicas. Fire-and-forget: the request that failed
 * is answered 401 without waiting; a Redis that does not answer leaves the local count, which
 * FailureLimiter keeps anyway (lockouts fall back to each replica's own).
 */
export class RedisLockouts implements SharedFailures {
  private readonly commands: LockoutCommands;
  private readonly keys: { locked: string; global: string; client: (client: string) => string };

  constructor(
    private readonly redis: Redis,
    private readonly events: EventChannel,
    private readonly health: RedisHealth,
    prefix = "openclaw:",
  ) {
    redis.defineCommand("openclawAuthFailed", { numberOfKeys: 3, lua: FAILED_SCRIPT });
    redis.defineCommand("openclawAuthInForce", { numberOfKeys: 2, lua: IN_FORCE_SCRIPT });
    this.commands = redis as unknown as LockoutCommands;
    this.keys = {
      locked: `${prefix}auth:locked`,
      global: `${prefix}auth:global`,
      client: (client) => `${prefix}auth:failures:${client}`,
    };
  }

  failed(client: string, policy: LockoutPolicy): void {
    if (this.redis.status !== "ready") return;
    const { locked, global } = this.keys;
    this.commands
      .openclawAuthFailed(
        this.keys.client(client),
        global,
        locked,
        policy.maxAttempts,
        policy.windowMs,
        policy.lockoutMs,
        policy.globalMaxAttempts,
        client,
        EVENTS_CHANNEL,
      )
      .then(
        () => this.health.succeeded(),
        (error) => this.health.failed(error, "lockouts fall back to each replica's own"),
      );
  }

  succeeded(client: string): void {
    if (this.redis.status === "ready") this.redis.del(this.keys.client(client)).catch(() => undefined);
  }

  subscribe(listener: (lock: { client: string | undefined; retryAfterMs: number }) => void): () => void {
    const off = this.events.on("lockout", (event) => {
      if (typeof event.ms !== "number" || event.ms <= 0) return;
      listener({ client: typeof event.client === "string" ? event.client : undefined, retryAfterMs: event.ms });
    });
    const sync = () => {
      this.commands.openclawAuthInForce(this.keys.locked, this.keys.global, MAX_SYNCED).then(
        (rows) => {
          for (let i = 0; i + 1 < rows.length; i += 2) listener({ client: rows[i] as string, retryAfterMs: Number(rows[i + 1]) });
          const globalMs = Number(rows[rows.length - 1]);
          if (globalMs > 0) listener({ client: undefined, retryAfterMs: globalMs });
        },
        () => undefined,
      );
    };
    const offResync = this.events.onResync(sync);
    if (this.redis.status === "ready") sync();
    return () => {
      off();
      offResync();
    };
  }
}
