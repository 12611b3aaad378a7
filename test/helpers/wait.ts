import { setTimeout as sleep } from "node:timers/promises";

/**
 * Poll until `condition` holds (returns a truthy value, which is returned), instead of a
 * fixed sleep that races the asynchronous work: batched writes, log lines, file watchers. The
 * deadline only turns a hang into a failure.
 */
export async function waitUntil<T>(
  condition: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    const value = await condition();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.what ?? "a condition"}`);
    await sleep(options.intervalMs ?? 10);
  }
}

/** Poll `probe` until `ok` holds; on time-out the last value is returned for the caller's assertion to explain. */
export async function eventually<T>(probe: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  let last = await probe();
  if (ok(last)) return last;
  await waitUntil(
    async () => {
      last = await probe();
      return ok(last);
    },
    { timeoutMs, intervalMs: 50 },
  ).catch(() => undefined);
  return last;
}
