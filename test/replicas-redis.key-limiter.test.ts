import assert from "node:assert/strict";
import type { Redis } from "ioredis";
import { openRedis, RedisHealth } from "../src/backends/redis/connection.js";
import { RedisKeyLimiter } from "../src/backends/redis/redis-key-limiter.js";
import { InMemoryKeyLimiter, type KeyLimits } from "../src/gateway/limits/key-limiter.js";
import { type RedisServer, startRedisServer } from "./helpers/redis-server.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

// The shared limiter against a real redis-server, one instance per "replica" (each its own connection).
let redis: RedisServer;
const connections: Redis[] = [];
const limiters: RedisKeyLimiter[] = [];
const silent = { warn: () => undefined, info: () => undefined };

before(async () => {
  redis = await startRedisServer();
});
after(async () => {
  for (const limiter of limiters) limiter.close();
  for (const connection of connections) connection.disconnect();
  await redis.stop();
});

async function replica(options: { leaseMs?: number; spendSince?: (id: string, since: number) => Promise<number> } = {}) {
  const connection = await openRedis(redis.url);
  await connection.connect();
  connections.push(connection);
  const limiter = new RedisKeyLimiter(connection, {
    fallback: new InMemoryKeyLimiter(),
    failMode: "open",
    health: new RedisHealth(silent, redis.url),
    ...options,
  });
  limiters.push(limiter);
  return { limiter, connection };
}

const key = (id: string, limits: Partial<KeyLimits>): KeyLimits => ({ id, createdAt: Date.now(), ...limits });

test("a parallel slot held by a replica that died frees itself after the lease; a live replica keeps renewing its own", async () => {
  const k = key("lease", { maxParallel: 2 });
  const living = await replica({ leaseMs: 600 });
  const dying = await replica({ leaseMs: 600 });
  const other = await replica({ leaseMs: 600 });
  const kept = await living.limiter.acquire({ key: k, estimateTokens: 0, now: Date.now() });
  assert.ok(kept.ok);
  assert.ok((await dying.limiter.acquire({ key: k, estimateTokens: 0, now: Date.now() })).ok);
  assert.equal((await other.limiter.acquire({ key: k, estimateTokens: 0, now: Date.now() })).ok, false);
  // The replica dies with its slot held: no release, no renewals. The living one keeps renewing its own
  // (so the set itself never expires): only the dead lease's own end frees its slot.
  dying.limiter.close();
  dying.connection.disconnect();
  const freed = await waitUntil(async () => {
    const admission = await other.limiter.acquire({ key: k, estimateTokens: 0, now: Date.now() });
    return admission.ok ? admission : undefined;
  });
  // Two live leases now: the slot count holds, renewal after renewal.
  const leaseEnds = async () =>
    (await redis.command("ZRANGE", "openclaw:parallel:{lease}", "0", "-1", "WITHSCORES"))
      .split("\r\n")
      .filter((_, i) => i === 4 || i === 8)
      .map(Number);
  const first = Math.min(...(await leaseEnds()));
  await waitUntil(async () => Math.min(...(await leaseEnds())) > first, { what: "a renewal of both" });
  const second = Math.min(...(await leaseEnds()));
  await waitUntil(async () => Math.min(...(await leaseEnds())) > second, { what: "another renewal of both" });
  assert.equal((await living.limiter.acquire({ key: k, estimateTokens: 0, now: Date.now() })).ok, false);
  freed.reservation.release();
  kept.reservation.release();
  await waitUntil(async () => (await living.limiter.acquire({ key: k, estimateTokens: 0, now: Date.now() })).ok, { what: "the release" });
});

test("a budget is seeded once from the ledger and spent by every replica together", async () => {
  let ledgerReads = 0;
  const spendSince = async () => {
    ledgerReads++;
    return 0.6;
  };
  const k = key("budget", { budget: { usd: 1, period: "total" } });
  const a = await replica({ spendSince });
  const b = await replica({ spendSince });
  const first = await a.limiter.acquire({ key: k, estimateTokens: 0, now: Date.now() });
  assert.ok(first.ok);
  first.reservation.settle({ tokens: 10, cost: 0.3 }, Date.now());
  await waitUntil(async () => (await b.limiter.spent(k, Date.now())) > 0.89, { what: "the spend on the other replica" });
  const second = await b.limiter.acquire({ key: k, estimateTokens: 0, now: Date.now() });
  assert.ok(second.ok);
  second.reservation.settle({ tokens: 10, cost: 0.2 }, Date.now());
  await waitUntil(async () => (await a.limiter.spent(k, Date.now())) >= 1, { what: "the spend reaching the budget" });
  const refused = await a.limiter.acquire({ key: k, estimateTokens: 0, now: Date.now() });
  assert.equal(refused.ok, false);
  assert.equal(refused.ok === false && refused.limit, "budget");
  assert.equal(ledgerReads, 1, "the ledger is read once, by the first replica that needed it");
});

test("TPM reserves the estimate and the settle gives back what was not used, for every replica", async () => {
  const k = key("tpm", { tpm: 1000 });
  const a = await replica();
  const b = await replica();
  const big = await a.limiter.acquire({ key: k, estimateTokens: 900, now: Date.now() });
  assert.ok(big.ok);
  // 100 left: a 500-token request waits on either replica.
  assert.equal((await b.limiter.acquire({ key: k, estimateTokens: 500, now: Date.now() })).ok, false);
  big.reservation.settle({ tokens: 100, cost: null }, Date.now());
  await waitUntil(async () => {
    const admission = await b.limiter.acquire({ key: k, estimateTokens: 500, now: Date.now() });
    if (admission.ok) admission.reservation.release();
    return admission.ok;
  });
});
