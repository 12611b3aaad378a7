import assert from "node:assert/strict";
import { ModelCooldowns } from "../src/agents/routing.js";
import { UpstreamError } from "../src/shared/errors.js";
import { isRetryable, type RetryPolicy, retryDelay } from "../src/shared/retry-policy.js";
import { test } from "./helpers/test.js";

const POLICY: RetryPolicy = { retries: 3, baseDelayMs: 100, maxDelayMs: 2_000 };
const http = (status: number, retryAfterSeconds?: number) =>
  new UpstreamError(`HTTP ${status}`, {
    upstreamStatus: status,
    retryable: status >= 500 || status === 429,
    ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }),
  });

test("429 and 5xx are retried; 4xx and timeouts are not", () => {
  assert.ok(isRetryable(http(429)));
  assert.ok(isRetryable(http(503)));
  assert.ok(!isRetryable(http(400)));
  assert.ok(!isRetryable(new UpstreamError("slow", { code: "upstream_timeout", retryable: true })));
  assert.ok(isRetryable(new UpstreamError("reset", { code: "upstream_unreachable", retryable: true })));
  assert.ok(!isRetryable(new Error("plain")));
});

test("backoff doubles per retry with jitter between half and all of it, and stops after the configured count", () => {
  assert.equal(
    retryDelay(POLICY, 0, http(503), () => 0),
    50,
  );
  assert.equal(
    retryDelay(POLICY, 0, http(503), () => 1),
    100,
  );
  assert.equal(
    retryDelay(POLICY, 2, http(503), () => 1),
    400,
  );
  assert.equal(
    retryDelay(POLICY, 3, http(503), () => 1),
    undefined,
  );
  assert.equal(retryDelay({ ...POLICY, retries: 0 }, 0, http(503)), undefined);
});

test("Retry-After is a floor, and one beyond maxDelayMs is not waited for (fall back instead)", () => {
  assert.equal(
    retryDelay(POLICY, 0, http(429, 1), () => 0),
    1000,
  );
  assert.equal(
    retryDelay(POLICY, 0, http(429, 0), () => 1),
    100,
  );
  assert.equal(
    retryDelay(POLICY, 0, http(429, 5), () => 0),
    undefined,
  );
});

test("a model is put in cooldown after N failures in a row; a success clears the count", () => {
  const cooldowns = new ModelCooldowns();
  assert.equal(cooldowns.failed("m", 0, 2, 1000), false);
  cooldowns.succeeded("m");
  assert.equal(cooldowns.failed("m", 0, 2, 1000), false);
  assert.equal(cooldowns.failed("m", 10, 2, 1000), true);
  assert.equal(cooldowns.coolingFor("m", 500), 510);
  assert.equal(cooldowns.coolingFor("m", 1010), 0);
  assert.equal(cooldowns.failed("x", 0, 0, 1000), false, "0 turns cooldowns off");
});
