import assert from "node:assert/strict";
import { estimateTokens, seedBudgets } from "../src/gateway/limits/budget-seed.js";
import { type Admission, InMemoryKeyLimiter, type KeyLimits } from "../src/gateway/limits/key-limiter.js";
import { formatResetDuration } from "../src/gateway/limits/rate-headers.js";
import { usageCost } from "../src/models/usage-cost.js";
import type { KeyRecord } from "../src/store/key-store.js";
import { test } from "./helpers/test.js";

const T0 = 1_800_000_000_000;
const key = (limits: Partial<KeyLimits>): KeyLimits => ({ id: "k1", createdAt: T0, ...limits });

function granted(admission: Admission) {
  assert.ok(admission.ok, `refused: ${admission.ok ? "" : admission.message}`);
  return admission;
}
function refused(admission: Admission) {
  assert.ok(!admission.ok, "admitted");
  return admission;
}

test("rpm 5 admits 5 at once, refuses the 6th until exactly one interval (12 s) has passed", async () => {
  const limiter = new InMemoryKeyLimiter();
  const limits = key({ rpm: 5 });
  for (let i = 0; i < 5; i++) granted(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 }));
  const sixth = refused(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 }));
  assert.equal(sixth.limit, "requests");
  assert.equal(sixth.retryAfterMs, 12_000);
  refused(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 + 11_999 }));
  granted(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 + 12_000 }));
  refused(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 + 12_000 }));
});

test("a refused request takes nothing: refusals do not push the next admission later", async () => {
  const limiter = new InMemoryKeyLimiter();
  const limits = key({ rpm: 1 });
  granted(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 }));
  for (let i = 0; i < 10; i++) refused(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 + i }));
  granted(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 + 60_000 }));
});

test("rate-limit headers: limit, remaining after this request, reset in OpenAI's duration format", async () => {
  const limiter = new InMemoryKeyLimiter();
  const limits = key({ rpm: 60, tpm: 1000 });
  const first = granted(await limiter.acquire({ key: limits, estimateTokens: 400, now: T0 }));
  assert.deepEqual(first.headers, {
    "x-ratelimit-limit-requests": "60",
    "x-ratelimit-remaining-requests": "59",
    "x-ratelimit-reset-requests": "1s",
    "x-ratelimit-limit-tokens": "1000",
    "x-ratelimit-remaining-tokens": "600",
    "x-ratelimit-reset-tokens": "24s",
  });
  const second = refused(await limiter.acquire({ key: limits, estimateTokens: 700, now: T0 }));
  assert.equal(second.limit, "tokens");
  assert.equal(second.headers["x-ratelimit-remaining-tokens"], "600");
  assert.equal(second.retryAfterMs, 6000);
  assert.equal(formatResetDuration(360_000), "6m0s");
  assert.equal(formatResetDuration(1500), "1.5s");
  assert.equal(formatResetDuration(20.2), "21ms");
  assert.equal(formatResetDuration(3_723_000), "1h2m3s");
});

test("tpm: a reservation settled below its estimate gives the difference back at once", async () => {
  const limiter = new InMemoryKeyLimiter();
  const limits = key({ tpm: 1000 });
  const first = granted(await limiter.acquire({ key: limits, estimateTokens: 900, now: T0 }));
  refused(await limiter.acquire({ key: limits, estimateTokens: 500, now: T0 }));
  first.reservation.settle({ tokens: 100, cost: null }, T0);
  const second = granted(await limiter.acquire({ key: limits, estimateTokens: 500, now: T0 }));
  assert.equal(second.headers["x-ratelimit-remaining-tokens"], "400");
});

test("tpm: usage above the estimate is a debt the next request waits out", async () => {
  const limiter = new InMemoryKeyLimiter();
  const limits = key({ tpm: 600 });
  const first = granted(await limiter.acquire({ key: limits, estimateTokens: 100, now: T0 }));
  first.reservation.settle({ tokens: 1200, cost: null }, T0);
  // 600 - 1200 = -600: 1 token needs 601 tokens of refill at 10/s.
  const next = refused(await limiter.acquire({ key: limits, estimateTokens: 1, now: T0 }));
  assert.equal(next.retryAfterMs, 60_100);
  granted(await limiter.acquire({ key: limits, estimateTokens: 1, now: T0 + 60_100 }));
});

test("tpm: a settle counts once, however often it is called", async () => {
  const limiter = new InMemoryKeyLimiter();
  const limits = key({ tpm: 1000 });
  const first = granted(await limiter.acquire({ key: limits, estimateTokens: 500, now: T0 }));
  first.reservation.settle({ tokens: 0, cost: null }, T0);
  first.reservation.settle({ tokens: 0, cost: null }, T0);
  first.reservation.release();
  const next = granted(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 }));
  assert.equal(next.headers["x-ratelimit-remaining-tokens"], "1000");
});

test("max-parallel: a slot freed by release (an error, no usage) admits the next request", async () => {
  const limiter = new InMemoryKeyLimiter();
  const limits = key({ maxParallel: 2 });
  const a = granted(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 }));
  granted(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 }));
  assert.equal(refused(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 })).limit, "parallel");
  a.reservation.release();
  a.reservation.release();
  granted(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 }));
  assert.equal(refused(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 })).limit, "parallel");
});

test("budget: the request that crosses it is served; at exactly the budget the next is refused until the period ends", async () => {
  const limiter = new InMemoryKeyLimiter();
  const limits = key({ budget: { usd: 0.002, period: "1d" } });
  const first = granted(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 }));
  first.reservation.settle({ tokens: 10, cost: 0.0015 }, T0 + 10);
  const second = granted(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 + 20 }));
  second.reservation.settle({ tokens: 10, cost: 0.0005 }, T0 + 30);
  assert.equal(await limiter.spent(limits, T0 + 30), 0.002);
  const third = refused(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 + 40 }));
  assert.equal(third.limit, "budget");
  assert.equal(third.retryAfterMs, 86_400_000 - 40);
  granted(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 + 86_400_000 }));
});

test("budget: spend settled after the period rolled over counts in the period the request started in", async () => {
  const limiter = new InMemoryKeyLimiter();
  const limits = key({ budget: { usd: 1, period: "1d" } });
  const late = granted(await limiter.acquire({ key: limits, estimateTokens: 0, now: T0 + 86_400_000 - 1 }));
  late.reservation.settle({ tokens: 1, cost: 5 }, T0 + 86_400_000 + 1);
  assert.equal(await limiter.spent(limits, T0 + 86_400_000 + 2), 0);
});

test("budget: seeded from the ledger's sum for the key's current window", async () => {
  const limiter = new InMemoryKeyLimiter();
  const record: KeyRecord = { id: "k1", name: "n", hash: "h", salt: "s", prefix: "ock_", createdAt: T0, budget: { usd: 1, period: "7d" } };
  const queries: Array<[string, number]> = [];
  const ledger = {
    keySpend: async (keyId: string, since: number) => {
      queries.push([keyId, since]);
      return 1;
    },
  };
  const now = T0 + 8 * 86_400_000;
  await seedBudgets(limiter, ledger, [record], now);
  assert.deepEqual(queries, [["k1", T0 + 7 * 86_400_000]]);
  assert.equal(refused(await limiter.acquire({ key: record, estimateTokens: 0, now })).limit, "budget");
});

test("cost: cached input at its own price; estimate from body size plus the allowed output", () => {
  const usage = { prompt_tokens: 1000, completion_tokens: 100, prompt_tokens_details: { cached_tokens: 600 } };
  assert.equal(usageCost(usage, { input: 1, output: 2, cacheRead: 0.5 }), (400 * 1 + 600 * 0.5 + 100 * 2) / 1e6);
  assert.equal(usageCost(usage, { input: 1, output: 2 }), (1000 * 1 + 100 * 2) / 1e6);
  assert.equal(usageCost(usage, undefined), null);
  assert.equal(estimateTokens(401, 100), 201);
});

test("budget: read from the ledger when a key first has one and when its period changes, not on every request", async () => {
  const reads: Array<[string, number]> = [];
  const limiter = new InMemoryKeyLimiter({
    spendSince: async (keyId, since) => {
      reads.push([keyId, since]);
      return since === 0 ? 3 : 0.4;
    },
  });
  const unlimited = key({});
  granted(await limiter.acquire({ key: unlimited, estimateTokens: 0, now: T0 + 1 }));
  assert.equal(reads.length, 0);
  const weekly = key({ budget: { usd: 0.5, period: "7d" } });
  granted(await limiter.acquire({ key: weekly, estimateTokens: 0, now: T0 + 2 }));
  granted(await limiter.acquire({ key: weekly, estimateTokens: 0, now: T0 + 3 }));
  assert.deepEqual(reads, [["k1", T0]]);
  // `keys update --budget-period total`: the lifetime spend (3) is over the budget.
  const total = key({ budget: { usd: 0.5, period: "total" } });
  assert.equal(refused(await limiter.acquire({ key: total, estimateTokens: 0, now: T0 + 4 })).limit, "budget");
  assert.deepEqual(reads, [
    ["k1", T0],
    ["k1", 0],
  ]);
});
