import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { InMemoryKeyLimiter } from "../src/gateway/limits/key-limiter.js";
import { KeyIndex } from "../src/store/key-index.js";
import { LocalKeyStore } from "../src/store/key-store-file.js";

/**
 * CPU per keyed request on the hot path, in process: the key check (lookup + HMAC + compare),
 * then acquire and settle with every limit set (RPM, TPM, parallel, budget). Printed, never asserted.
 */
export async function benchKeyCheck(iterations: number): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "openclaw-keybench-"));
  try {
    const store = new LocalKeyStore(path.join(dir, "keys.json"));
    const created = [];
    for (let i = 0; i < 1000; i++)
      created.push(
        await store.create(`key-${i}`, i === 500 ? { rpm: 1e9, tpm: 1e12, maxParallel: 1e6, budget: { usd: 1e9, period: "30d" } } : {}),
      );
    const index = new KeyIndex(await store.list());
    const limiter = new InMemoryKeyLimiter({ spendSince: async () => 0 });
    const { secret } = created[500] as (typeof created)[number];
    const run = async (count: number) => {
      const started = performance.now();
      for (let i = 0; i < count; i++) {
        const now = Date.now();
        const verdict = index.check(secret, now);
        if (!verdict.ok) throw new Error("key refused");
        const admission = await limiter.acquire({ key: verdict.key, estimateTokens: 300, now });
        if (!admission.ok) throw new Error(admission.message);
        admission.reservation.settle({ tokens: 120, cost: 0.00001 }, now);
      }
      return ((performance.now() - started) * 1000) / count;
    };
    await run(Math.min(iterations, 10_000)); // warm-up
    const checkOnly = performance.now();
    for (let i = 0; i < iterations; i++) index.check(secret, Date.now());
    const checkUs = ((performance.now() - checkOnly) * 1000) / iterations;
    const totalUs = await run(iterations);
    console.log(`key check (1000 keys in the index): ${checkUs.toFixed(2)} µs per request`);
    console.log(`key check + acquire + settle (RPM, TPM, parallel, budget): ${totalUs.toFixed(2)} µs per request`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
