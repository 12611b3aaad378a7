import type { Redis } from "ioredis";
import type { OpenClawConfig } from "../../config/schema.js";
import type { KeyLimiter } from "../../gateway/limits/key-limiter.js";
import { openRedis, RedisHealth, type RedisLog, redactRedisUrl, redisUrlOf } from "./connection.js";
import { EventChannel } from "./event-channel.js";
import { RedisSharedCache } from "./redis-cache.js";
import { RedisCooldowns } from "./redis-cooldowns.js";
import { RedisKeyLimiter } from "./redis-key-limiter.js";
import { RedisLockouts } from "./redis-lockouts.js";

export { redactRedisUrl, redisUrlOf } from "./connection.js";

/** What a gateway shares with its other replicas through Redis. */
export interface RedisBackends {
  /** The URL with its password redacted, for the banner. */
  readonly shownUrl: string;
  readonly failMode: "open" | "closed";
  readonly lockouts: RedisLockouts;
  readonly cooldowns: RedisCooldowns;
  /** Discovered model lists (and, once wired, attestation verdicts). */
  readonly cache: RedisSharedCache;
  /** Requests answered without Redis (limits admitted locally, or refused while closed), for metrics. */
  fallbackCount(): number;
  /** The shared key limiter; `fallback` answers while Redis is unreachable in "open" mode. */
  keyLimiter(fallback: KeyLimiter, spendSince?: (keyId: string, since: number) => Promise<number>): KeyLimiter;
  close(): Promise<void>;
}

/** QUIT when Redis answers (bounded: a stalled server must not hold shutdown up), else just drop the socket and stop reconnecting. */
async function endConnection(redis: Redis): Promise<void> {
  if (redis.status !== "ready") {
    redis.disconnect();
    return;
  }
  const timer = setTimeout(() => redis.disconnect(), 1_000);
  await redis.quit().catch(() => redis.disconnect());
  clearTimeout(timer);
}

/**
 * Connects to `gateway.state.redis` (or OPENCLAW_REDIS_URL) when set; undefined otherwise, and
 * then ioredis is never loaded. A Redis that is down at start does not stop the gateway: it
 * starts on its local state (one warning) and shares again once Redis answers.
 */
export async function connectRedisBackends(
  config: OpenClawConfig,
  log: RedisLog,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RedisBackends | undefined> {
  const url = redisUrlOf(config.gateway?.state, env);
  if (!url) return undefined;
  const failMode = config.gateway?.state?.redisFailMode ?? "open";
  const client = await openRedis(url);
  const subscriber: Redis = client.duplicate({ connectionName: "openclaw-events" });
  subscriber.on("error", () => undefined);
  const health = new RedisHealth(log, redactRedisUrl(url));
  const events = new EventChannel(subscriber, client);
  client.on("ready", () => health.succeeded());
  await Promise.all([
    client
      .connect()
      .catch((error) => health.failed(error, "starting on this replica's own limits, lockouts and cooldowns until it answers")),
    subscriber.connect().catch(() => undefined),
  ]);
  const limiters: RedisKeyLimiter[] = [];
  return {
    shownUrl: redactRedisUrl(url),
    failMode,
    lockouts: new RedisLockouts(client, events, health),
    cooldowns: new RedisCooldowns(client, events, health),
    cache: new RedisSharedCache(client),
    fallbackCount: () => health.fallbackCount,
    keyLimiter: (fallback, spendSince) => {
      const limiter = new RedisKeyLimiter(client, { fallback, failMode, health, ...(spendSince ? { spendSince } : {}) });
      limiters.push(limiter);
      return limiter;
    },
    close: async () => {
      for (const limiter of limiters) limiter.close();
      await Promise.all([endConnection(client), endConnection(subscriber)]);
    },
  };
}
