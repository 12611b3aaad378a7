/**
 * Poll `probe` until `ok` holds (or the time is up, when the last value is returned for the
 * caller's assertion to explain). For asynchronous work the test cannot await directly: batched
 * writes, log lines, file watchers.
 */
export async function eventually<T>(probe: () => Promise<T> | T, ok: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (ok(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
