/**
 * The key limiter's Lua scripts: each runs atomically on the Redis server, one round trip per
 * acquire and per settle. Time is the server's (TIME), so replicas whose clocks disagree still
 * share one bucket; budget windows stay on the caller's clock, like the ledger they are seeded from.
 * The buckets are the in-process ones (token-bucket.ts) written in Lua: a level and its time.
 *
 * KEYS: [1] the key's buckets (hash rl/ra/tl/ta), [2] its parallel leases (sorted set, score =
 * lease end), [3] its spend in the current budget window (a float string).
 */

const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * ARGV: rpm, tpm, maxParallel, budget USD (0 = none), estimate, lease ms, lease member.
 * Returns [verdict, requests level, requests reset ms, tokens level, tokens reset ms, retry ms, detail]
 * with verdict ok | seed (the budget counter is missing: read the ledger, then ask again) |
 * budget | parallel | requests | tokens. Nothing is taken unless every check passes.
 */
export const ACQUIRE_SCRIPT = `${NOW}
local rpm = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
local maxPar = tonumber(ARGV[3])
local budget = tonumber(ARGV[4])
local estimate = tonumber(ARGV[5])
local lease = tonumber(ARGV[6])
local state = redis.call('HMGET', KEYS[1], 'rl', 'ra', 'tl', 'ta')
local function level(l, a, cap)
  if cap <= 0 then return 0 end
  l = tonumber(l)
  if not l then return cap end
  return math.min(cap, l + math.max(0, now - tonumber(a)) * cap / 60000)
end
local function untilFull(l, cap)
  if cap <= 0 then return 0 end
  return math.max(0, (cap - l) * 60000 / cap)
end
local rl = level(state[1], state[2], rpm)
local tl = level(state[3], state[4], tpm)
local function answer(verdict, retry, detail)
  return {verdict, tostring(rl), tostring(untilFull(rl, rpm)), tostring(tl), tostring(untilFull(tl, tpm)), tostring(retry), tostring(detail)}
end
if budget > 0 then
  local spent = redis.call('GET', KEYS[3])
  if not spent then return answer('seed', 0, 0) end
  if tonumber(spent) >= budget then return answer('budget', 0, spent) end
end
if maxPar > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
  local n = redis.call('ZCARD', KEYS[2])
  if n >= maxPar then return answer('parallel', 1000, n) end
end
if rpm > 0 and rl < 1 then return answer('requests', (1 - rl) * 60000 / rpm, 0) end
if tpm > 0 then
  local need = math.min(estimate, tpm)
  if tl < need then return answer('tokens', (need - tl) * 60000 / tpm, 0) end
end
if rpm > 0 or tpm > 0 then
  if rpm > 0 then rl = rl - 1 end
  if tpm > 0 then tl = tl - estimate end
  redis.call('HSET', KEYS[1], 'rl', tostring(rl), 'ra', tostring(now), 'tl', tostring(tl), 'ta', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil(math.max(untilFull(rl, rpm), untilFull(tl, tpm))) + 1000)
end
if maxPar > 0 then
  redis.call('ZADD', KEYS[2], now + lease, ARGV[7])
  redis.call('PEXPIRE', KEYS[2], lease * 2)
end
return answer('ok', 0, 0)`;

/**
 * ARGV: tpm, estimate, actual tokens, cost USD, lease member ('' = none). Frees the parallel
 * lease, corrects TPM to the real usage, and adds the cost to the window's spend when that
 * counter exists (a missing one is seeded from the ledger, which will include this request).
 */
export const SETTLE_SCRIPT = `${NOW}
if ARGV[5] ~= '' then redis.call('ZREM', KEYS[2], ARGV[5]) end
local tpm = tonumber(ARGV[1])
if tpm > 0 then
  local state = redis.call('HMGET', KEYS[1], 'tl', 'ta')
  local l = tonumber(state[1])
  if l then l = math.min(tpm, l + math.max(0, now - tonumber(state[2])) * tpm / 60000) else l = tpm end
  l = math.min(tpm, l + tonumber(ARGV[2]) - tonumber(ARGV[3]))
  redis.call('HSET', KEYS[1], 'tl', tostring(l), 'ta', tostring(now))
  local need = math.ceil(math.max(0, (tpm - l) * 60000 / tpm)) + 1000
  if redis.call('PTTL', KEYS[1]) < need then redis.call('PEXPIRE', KEYS[1], need) end
end
local cost = tonumber(ARGV[4])
if cost > 0 and redis.call('EXISTS', KEYS[3]) == 1 then redis.call('INCRBYFLOAT', KEYS[3], ARGV[4]) end
return 1`;

/** ARGV: lease ms, then members: pushes each live lease's end forward (a replica that dies stops doing this). */
export const RENEW_SCRIPT = `${NOW}
for i = 2, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[1]), ARGV[i]) end
if #ARGV > 1 then redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) * 2) end
return 1`;
