import type { Redis, RedisOptions } from "ioredis";

/** What the Redis backends log: the gateway's pino logger fits, so does a test's recorder. */
export interface RedisLog {
  warn(fields: Record<string, unknown>, message: string): void;
  info(fields: Record<string, unknown>, message: string): void;
}

/**
 * A command waits at most this long on a Redis that accepted the connection but stopped
 * answering (a paused or overloaded server). A disconnected one fails at once: the offline
 * queue is off, so nothing on the request path ever waits for a reconnect.
 */
export const DEFAULT_COMMAND_TIMEOUT_MS = 500;

/** The URL with its password replaced, for banners and logs. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = "***";
    return parsed.toString();
  } catch {
    return "(unparsable Redis URL)";
  }
}

/** `gateway.state.redis`, else OPENCLAW_REDIS_URL; undefined when neither is set. */
export function redisUrlOf(state: { redis?: string | undefined } | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return state?.redis ?? (env.OPENCLAW_REDIS_URL || undefined);
}

export interface RedisConnectionOptions {
  commandTimeoutMs?: number;
  /** Another role on the same server (the subscriber): its own connection name. */
  name?: string;
}

/**
 * An ioredis client, loaded on first use so a gateway without Redis never loads it. Reconnects
 * forever with a capped back-off; commands fail fast while it is down (callers fall back).
 */
export async function openRedis(url: string, options: RedisConnectionOptions = {}): Promise<Redis> {
  const { Redis } = await import("ioredis");
  const settings: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    connectTimeout: 2_000,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2_000),
    connectionName: options.name ?? "openclaw",
    lazyConnect: true,
  };
  const client = new Redis(url, settings);
  // Errors surface through the commands that fail and through Health; an unhandled 'error' event would crash the process.
  client.on("error", () => undefined);
  return client;
}

/**
 * Whether Redis answers, as the request path sees it: one warning when it stops (not one per
 * request), one line when it is back, and a count of the calls answered without it.
 */
export class RedisHealth {
  private down = false;
  private fallbacks = 0;

  constructor(
    private readonly log: RedisLog,
    private readonly shownUrl: string,
  ) {}

  /** Calls answered without Redis (limits admitted locally, refusals while closed) since start. */
  get fallbackCount(): number {
    return this.fallbacks;
  }

  get isDown(): boolean {
    return this.down;
  }

  failed(error: unknown, consequence: string): void {
    this.fallbacks++;
    if (this.down) return;
    this.down = true;
    this.log.warn({ err: (error as Error).message, backend: "redis" }, `Redis at ${this.shownUrl} is unreachable: ${consequence}`);
  }

  succeeded(): void {
    if (!this.down) return;
    this.down = false;
    this.log.info(
      { backend: "redis", fallbacks: this.fallbacks },
      `Redis at ${this.shownUrl} answers again: limits, lockouts and cooldowns are shared again`,
    );
  }
}
