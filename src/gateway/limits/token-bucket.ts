/**
 * A token bucket holding up to `capacity` units, refilled continuously at `capacity` per
 * minute: a key with `rpm 5` may send 5 at once, then one every 12 s. Chosen over windows:
 * a fixed window lets 2× the limit through across a boundary, a sliding log keeps one
 * timestamp per request; the bucket is two numbers per key and one update, which a Redis
 * script can do atomically (it is GCRA written with a level instead of a theoretical arrival time).
 * The level may go below zero: a TPM reservation settled above its estimate is a debt that
 * later requests wait out.
 */
export interface Bucket {
  level: number;
  at: number;
}

const MINUTE_MS = 60_000;

export function newBucket(capacity: number, now: number): Bucket {
  return { level: capacity, at: now };
}

/** Bring the level up to `now` (a clock that went backwards adds nothing). */
export function refill(bucket: Bucket, capacity: number, now: number): void {
  const elapsed = Math.max(0, now - bucket.at);
  bucket.level = Math.min(capacity, bucket.level + (elapsed * capacity) / MINUTE_MS);
  bucket.at = Math.max(bucket.at, now);
}

/**
 * Milliseconds until the bucket holds `units` (0 when it does now). A cost above the capacity
 * waits for a full bucket rather than forever: the estimate may be generous, and the settle fixes it.
 */
export function waitFor(bucket: Bucket, capacity: number, units: number): number {
  const needed = Math.min(units, capacity);
  if (bucket.level >= needed) return 0;
  return ((needed - bucket.level) * MINUTE_MS) / capacity;
}

/** Until the bucket is full again. */
export function untilFull(bucket: Bucket, capacity: number): number {
  return Math.max(0, ((capacity - bucket.level) * MINUTE_MS) / capacity);
}

/** Put back `units` (a settle below the estimate), never above the capacity. */
export function credit(bucket: Bucket, capacity: number, units: number): void {
  bucket.level = Math.min(capacity, bucket.level + units);
}
