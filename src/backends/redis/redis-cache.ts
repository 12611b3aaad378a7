import type { Redis } from "ioredis";
import type { SharedCache } from "../../shared/shared-cache.js";

/** Values larger than this are not shared (a model list is tens of kB; this bounds what one writer can park in Redis). */
export const MAX_SHARED_VALUE_BYTES = 4 * 1024 * 1024;

/** The shared cache on Redis: plain GET / SET PX under a prefix; a Redis that does not answer is a miss. */
export class RedisSharedCache implements SharedCache {
  constructor(
    private readonly redis: Redis,
    private readonly prefix = "openclaw:cache:",
  ) {}

  async get(key: string): Promise<string | undefined> {
    if (this.redis.status !== "ready") return undefined;
    try {
      return (await this.redis.get(this.prefix + key)) ?? undefined;
    } catch {
      return undefined;
    }
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (this.redis.status !== "ready" || Buffer.byteLength(value) > MAX_SHARED_VALUE_BYTES) return;
    await this.redis.set(this.prefix + key, value, "PX", Math.max(1, Math.ceil(ttlMs))).catch(() => undefined);
  }
}
