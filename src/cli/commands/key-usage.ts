import { budgetWindow, type KeyRecord, keyState } from "../../store/key-store.js";
import type { StateReader } from "../../store/state-reader.js";

/** A key as the CLI shows it: never its hash or salt (and the secret was never stored). */
export type PublicKey = Omit<KeyRecord, "hash" | "salt">;

export function publicKey(record: KeyRecord): PublicKey {
  const { hash: _hash, salt: _salt, ...rest } = record;
  return rest;
}

export interface KeyUsage {
  state: ReturnType<typeof keyState>;
  /** USD in the current budget window (all time for `total` or no budget). */
  spentUsd: number;
  window: { start: string | null; end: string | null };
  /** From the ledger: what counts against RPM and TPM right now. */
  lastMinute: { requests: number; tokens: number };
}

const iso = (ms: number) => (Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null);

/**
 * Each key's use against its limits, from the usage ledger (what every gateway process recorded):
 * this machine's SQLite (opened only when it exists: listing keys never creates a database) or the
 * shared PostgreSQL.
 */
export async function keyUsages(store: StateReader, keys: KeyRecord[], now: number): Promise<Map<string, KeyUsage>> {
  const usages = new Map<string, KeyUsage>();
  for (const key of keys) {
    const window = budgetWindow(key, now);
    const spent = await store.keySpend(key.id, window.start);
    const minute = (await store.aggregateRequests({ by: "key", keyId: key.id, since: now - 60_000 }))[0];
    usages.set(key.id, {
      state: keyState(key, now),
      spentUsd: spent,
      window: { start: iso(window.start), end: iso(window.end) },
      lastMinute: { requests: minute?.requests ?? 0, tokens: (minute?.promptTokens ?? 0) + (minute?.completionTokens ?? 0) },
    });
  }
  return usages;
}

export function formatUsd(value: number): string {
  if (value === 0) return "$0";
  return value < 0.01 ? `$${value.toFixed(6)}` : `$${value.toFixed(2)}`;
}
