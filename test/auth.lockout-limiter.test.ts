import assert from "node:assert/strict";
import { clientKey } from "../src/gateway/client-address.js";
import { FailureLimiter, type LockoutPolicy, TRUSTED_FOR_MS } from "../src/gateway/lockout.js";
import { test } from "./helpers/test.js";

const policy: LockoutPolicy = { maxAttempts: 5, windowMs: 60_000, lockoutMs: 300_000, globalMaxAttempts: 50 };

function clock(start = 1_000_000) {
  const state = { now: start };
  return { now: () => state.now, advance: (ms: number) => (state.now += ms) };
}

test("client keys: IPv4-mapped is IPv4, every loopback address is one client, IPv6 is grouped by /64", () => {
  assert.equal(clientKey("::ffff:203.0.113.9"), "203.0.113.9");
  assert.equal(clientKey("203.0.113.9"), "203.0.113.9");
  for (const address of ["127.0.0.1", "127.0.0.2", "127.255.0.9", "::1", "::ffff:127.0.0.1"]) assert.equal(clientKey(address), "loopback");
  assert.equal(clientKey("2001:db8:1:2:aaaa::1"), clientKey("2001:db8:1:2:bbbb:cccc:dddd:eeee"));
  assert.equal(clientKey("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  assert.notEqual(clientKey("2001:db8:1:2::1"), clientKey("2001:db8:1:3::1"));
  assert.equal(clientKey("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(clientKey("fe80::1%eth0"), "fe80:0:0:0::/64");
});

test("one client is locked out after maxAttempts failures, and let in again after lockoutMs", () => {
  const time = clock();
  const limiter = new FailureLimiter(policy, time.now);
  for (let i = 0; i < 4; i++) limiter.failed("198.51.100.1");
  assert.equal(limiter.check("198.51.100.1").locked, false);
  limiter.failed("198.51.100.1");
  const verdict = limiter.check("198.51.100.1");
  assert.ok(verdict.locked && !verdict.global && verdict.retryAfterMs === 300_000);
  assert.equal(limiter.check("198.51.100.2").locked, false);
  time.advance(300_000);
  assert.equal(limiter.check("198.51.100.1").locked, false);
});

test("rotating addresses does not multiply guesses: the global budget locks out every unknown client", () => {
  const time = clock();
  const limiter = new FailureLimiter(policy, time.now);
  limiter.succeeded("192.0.2.10"); // the operator, earlier
  let guesses = 0;
  for (let i = 0; i < 100_000; i++) {
    const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    if (limiter.check(address).locked) continue;
    guesses++;
    limiter.failed(address);
  }
  assert.equal(guesses, policy.globalMaxAttempts);
  const stranger = limiter.check("203.0.113.77");
  assert.ok(stranger.locked && stranger.global);
  // A client that authenticated recently is still checked (with its own budget) during a global lockout.
  assert.equal(limiter.check("192.0.2.10").locked, false);
  for (let i = 0; i < policy.maxAttempts; i++) limiter.failed("192.0.2.10");
  assert.ok(limiter.check("192.0.2.10").locked);
  // Trust expires: a day later, a new global lockout applies to the once-trusted client too.
  time.advance(TRUSTED_FOR_MS);
  for (let i = 0; i < policy.globalMaxAttempts; i++) limiter.failed(`10.1.${i >> 8}.${i & 255}`);
  assert.ok(limiter.check("203.0.113.77").locked);
  const former = limiter.check("192.0.2.10");
  assert.ok(former.locked && former.global);
});

test("the table stays bounded however many addresses fail, and expired entries go", () => {
  const time = clock();
  const limiter = new FailureLimiter({ ...policy, globalMaxAttempts: Number.MAX_SAFE_INTEGER }, time.now, 1_000);
  for (let i = 0; i < 150_000; i++) {
    limiter.failed(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    limiter.succeeded(`172.16.${(i >> 8) & 255}.${i & 255}`);
    if (i % 1_000 === 0) time.advance(1);
  }
  assert.ok(limiter.size <= 2_000, `size ${limiter.size}`);
  // Once their windows are over, failing entries are dropped as new failures arrive.
  time.advance(policy.windowMs);
  const before = limiter.size;
  for (let i = 0; i < 600; i++) limiter.failed(`192.168.${(i >> 8) & 255}.${i & 255}`);
  assert.ok(limiter.size <= before, `${limiter.size} > ${before}`);
});
