import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import type { HeldLock, RefreshLock } from "../../auth/oauth/refresh.js";
import { openRedis } from "./connection.js";

/** Deletes or extends the lock only when it still holds our token (another holder's is left alone). */
const RELEASE_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
const EXTEND_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
/** Moves the claim to ARGV[1] unless it is there already: the compare-and-set on the spent refresh token. */
const CLAIM_SCRIPT = `if redis.call('GET', KEYS[1]) == ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

interface LockCommands {
  openclawLockRelease(key: string, token: string): Promise<number>;
  openclawLockExtend(key: string, token: string, ttlMs: number): Promise<number>;
  openclawClaim(key: string, version: string, ttlMs: number): Promise<number>;
}

/** The OAuth refresh lock on Redis. The tokens and versions it stores are random ids and digests, never a secret. */
export class RedisRefreshLock implements RefreshLock {
  private readonly commands: LockCommands;

  constructor(
    private readonly redis: Redis,
    private readonly prefix = "openclaw:lock:",
  ) {
    redis.defineCommand("openclawLockRelease", { numberOfKeys: 1, lua: RELEASE_SCRIPT });
    redis.defineCommand("openclawLockExtend", { numberOfKeys: 1, lua: EXTEND_SCRIPT });
    redis.defineCommand("openclawClaim", { numberOfKeys: 1, lua: CLAIM_SCRIPT });
    this.commands = redis as unknown as LockCommands;
  }

  async acquire(name: string, ttlMs: number): Promise<HeldLock | undefined> {
    const key = this.prefix + name;
    const token = randomUUID();
    if ((await this.redis.set(key, token, "PX", ttlMs, "NX")) !== "OK") return undefined;
    return {
      extend: async (ms) => (await this.commands.openclawLockExtend(key, token, ms)) === 1,
      release: async () => {
        await this.commands.openclawLockRelease(key, token);
      },
    };
  }

  async claim(name: string, version: string, ttlMs: number): Promise<boolean> {
    return (await this.commands.openclawClaim(`${this.prefix}${name}:spent`, version, ttlMs)) === 1;
  }
}

/**
 * One refresh under the Redis lock, on its own short-lived connection (a CLI command, or a
 * gateway's hourly refresh): nothing stays connected afterwards. A Redis that cannot be reached
 * runs the refresh without it (the store's lock, as on one machine).
 */
export async function refreshWithRedisLock<T>(url: string, refresh: (lock: RefreshLock | undefined) => Promise<T>): Promise<T> {
  const redis = await openRedis(url, { name: "openclaw-oauth", commandTimeoutMs: 2_000 });
  try {
    await redis.connect();
  } catch {
    redis.disconnect();
    return refresh(undefined);
  }
  try {
    return await refresh(new RedisRefreshLock(redis));
  } finally {
    if (redis.status === "ready") await redis.quit().catch(() => redis.disconnect());
    else redis.disconnect();
  }
}
