import { budgetWindow, type KeyRecord, keyState } from "../../store/key-store.js";
import type { UsageLedger } from "../../store/usage-ledger.js";
import type { KeyLimiter } from "./key-limiter.js";

/**
 * At start (and for a key that appears later), the spend already in the ledger for each
 * budgeted key's current window: one indexed sum per key (`requests_key_at`), or its lifetime
 * total for a `total` budget.
 */
export async function seedBudgets(
  limiter: KeyLimiter,
  ledger: Pick<UsageLedger, "keySpend">,
  keys: KeyRecord[],
  now: number,
): Promise<void> {
  for (const key of keys) {
    if (!key.budget || keyState(key, now) !== "active") continue;
    const { start } = budgetWindow(key, now);
    await limiter.seedSpend(key.id, start, await ledger.keySpend(key.id, start));
  }
}

/**
 * The TPM reservation for a request, without parsing anything again: ~4 bytes of JSON body per
 * prompt token (an over-estimate for most text, which the settle corrects) plus the output the
 * client allows (`max_tokens` / `max_completion_tokens` / `max_output_tokens`).
 */
export function estimateTokens(bodyBytes: number, maxOutputTokens: number | undefined): number {
  return Math.ceil(bodyBytes / 4) + (maxOutputTokens && maxOutputTokens > 0 ? maxOutputTokens : 0);
}
