import type { Redis } from "ioredis";
import type { SharedCooldowns } from "../../agents/routing.js";
import type { RedisHealth } from "./connection.js";
import { EVENTS_CHANNEL, type EventChannel } from "./event-channel.js";

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * KEYS: [1] the model's failure count, [2] cooldowns in force (sorted set, score = end).
 * ARGV: threshold, cooldownMs, ref, started here (1/0), channel. A count idle for a minute
 * (or the cooldown, when longer) starts again from zero.
 */
const FAILED_SCRIPT = `${NOW}
local ms = tonumber(ARGV[2])
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], math.max(60000, ms))
if n >= tonumber(ARGV[1]) or ARGV[4] == '1' then
  redis.call('DEL', KEYS[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  redis.call('ZADD', KEYS[2], now + ms, ARGV[3])
  redis.call('PUBLISH', ARGV[5], cjson.encode({kind = 'cooldown', ref = ARGV[3], ms = ms}))
  return 1
end
return 0`;

/** KEYS: [1] cooldowns in force. Returns [ref, ms left, ...]. */
const IN_FORCE_SCRIPT = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local rows = redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf', 'WITHSCORES', 'LIMIT', 0, 1000)
local out = {}
for i = 1, #rows, 2 do
  out[#out + 1] = rows[i]
  out[#out + 1] = tostring(tonumber(rows[i + 1]) - now)
end
return out`;

interface CooldownCommands {
  openclawCooldownFailed(k1: string, k2: string, ...args: Array<string | number>): Promise<number>;
  openclawCooldownsInForce(k1: string): Promise<string[]>;
}

/** Model cooldowns across replicas: counted in Redis, announced on the event channel. Fire-and-forget. */
export class RedisCooldowns implements SharedCooldowns {
  private readonly commands: CooldownCommands;
  private readonly inForce: string;

  constructor(
    private readonly redis: Redis,
    private readonly events: EventChannel,
    private readonly health: RedisHealth,
    private readonly prefix = "openclaw:",
  ) {
    redis.defineCommand("openclawCooldownFailed", { numberOfKeys: 2, lua: FAILED_SCRIPT });
    redis.defineCommand("openclawCooldownsInForce", { numberOfKeys: 1, lua: IN_FORCE_SCRIPT });
    this.commands = redis as unknown as CooldownCommands;
    this.inForce = `${prefix}cooldown:until`;
  }

  failed(ref: string, threshold: number, cooldownMs: number, started: boolean): void {
    if (this.redis.status !== "ready") return;
    this.commands
      .openclawCooldownFailed(
        `${this.prefix}cooldown:failures:${ref}`,
        this.inForce,
        threshold,
        cooldownMs,
        ref,
        started ? 1 : 0,
        EVENTS_CHANNEL,
      )
      .then(
        () => this.health.succeeded(),
        (error) => this.health.failed(error, "model cooldowns fall back to each replica's own"),
      );
  }

  succeeded(ref: string): void {
    if (this.redis.status === "ready") this.redis.del(`${this.prefix}cooldown:failures:${ref}`).catch(() => undefined);
  }

  subscribe(listener: (cooldown: { ref: string; remainingMs: number }) => void): () => void {
    const off = this.events.on("cooldown", (event) => {
      if (typeof event.ref === "string" && typeof event.ms === "number" && event.ms > 0)
        listener({ ref: event.ref, remainingMs: event.ms });
    });
    const sync = () => {
      this.commands.openclawCooldownsInForce(this.inForce).then(
        (rows) => {
          for (let i = 0; i + 1 < rows.length; i += 2) listener({ ref: rows[i] as string, remainingMs: Number(rows[i + 1]) });
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
