/**
 * Virtual keys: scoped, limited credentials for the gateway (the gateway token stays the
 * operator's). A record holds only a salted hash of its secret; the secret is shown once.
 * `LocalKeyStore` (key-store-file.ts) keeps them in a file; the replicas issue backs the same
 * interface with PostgreSQL.
 */
export type BudgetPeriod = "1d" | "7d" | "30d" | "total";
export const BUDGET_PERIODS: readonly BudgetPeriod[] = ["1d", "7d", "30d", "total"];

export interface KeyBudget {
  usd: number;
  period: BudgetPeriod;
}

/** What a key may do; unset means no limit of that kind. */
export interface KeyScope {
  /** Canonical `provider/model` refs (aliases are resolved when the key is written, so a renamed alias never widens a key). */
  models?: string[];
  agents?: string[];
  rpm?: number;
  tpm?: number;
  maxParallel?: number;
  budget?: KeyBudget;
  /** Epoch ms. */
  expiresAt?: number;
}

export interface KeyRecord extends KeyScope {
  /** 12 base62 characters; also the part of the secret after `ock_` that finds the record. */
  id: string;
  name: string;
  /** HMAC-SHA256(salt, secret), base64url. */
  hash: string;
  /** 16 random bytes, base64url. */
  salt: string;
  /** For display: `ock_<first 8 of the id>…`; never part of the secret's entropy. */
  prefix: string;
  createdAt: number;
  revokedAt?: number;
}

/** Fields `update` may change: a value sets it, `null` clears it, absent leaves it. */
export type KeyPatch = { name?: string } & { [Field in keyof KeyScope]?: KeyScope[Field] | null };

export interface CreatedKey {
  record: KeyRecord;
  /** `ock_…`: returned once, never stored. */
  secret: string;
}

export interface KeyStore {
  list(): Promise<KeyRecord[]>;
  /** By id, else by the name of an active key, else by the name of the newest revoked one. */
  find(idOrName: string): Promise<KeyRecord | undefined>;
  create(name: string, scope: KeyScope, now?: number): Promise<CreatedKey>;
  /** Throws NotFoundError for an unknown key. */
  update(idOrName: string, patch: KeyPatch): Promise<KeyRecord>;
  revoke(idOrName: string, now?: number): Promise<KeyRecord>;
  /** Call `onChange` (debounced) when another process changes the keys; returns a stop function. */
  watch(onChange: () => void): () => void;
}

const PERIOD_MS: Record<Exclude<BudgetPeriod, "total">, number> = { "1d": 86_400_000, "7d": 7 * 86_400_000, "30d": 30 * 86_400_000 };

/**
 * Budget periods are fixed windows anchored at the key's creation (a `7d` key created on a
 * Tuesday 10:00 resets every Tuesday 10:00): the current spend is one sum since a known start, and
 * the limiter keeps one number per key instead of a sliding history. Returns [start, end).
 */
export function budgetWindow(record: Pick<KeyRecord, "createdAt" | "budget">, now: number): { start: number; end: number } {
  const period = record.budget?.period ?? "total";
  if (period === "total") return { start: 0, end: Number.POSITIVE_INFINITY };
  const length = PERIOD_MS[period];
  const index = Math.max(0, Math.floor((now - record.createdAt) / length));
  const start = record.createdAt + index * length;
  return { start, end: start + length };
}

export type KeyState = "active" | "revoked" | "expired";

export function keyState(record: Pick<KeyRecord, "revokedAt" | "expiresAt">, now: number): KeyState {
  if (record.revokedAt !== undefined) return "revoked";
  if (record.expiresAt !== undefined && record.expiresAt <= now) return "expired";
  return "active";
}
