import { redactRedisUrl } from "./connection.js";

export interface RedisCheck {
  /** The URL with its password redacted. */
  url: string;
  ok: boolean;
  detail: string;
  ms: number;
}

/** One PING on a connection of its own that never retries (for `openclaw gateway status`). */
export async function pingRedis(url: string, timeoutMs = 3_000): Promise<RedisCheck> {
  const { Redis } = await import("ioredis");
  const started = performance.now();
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: () => null,
    connectionName: "openclaw-status",
  });
  redis.on("error", () => undefined);
  const ms = () => Math.round(performance.now() - started);
  try {
    await redis.connect();
    const reply = await redis.ping();
    return { url: redactRedisUrl(url), ok: reply === "PONG", detail: reply, ms: ms() };
  } catch (error) {
    return { url: redactRedisUrl(url), ok: false, detail: (error as Error).message, ms: ms() };
  } finally {
    redis.disconnect();
  }
}
