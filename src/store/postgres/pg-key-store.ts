import type { Pool } from "pg";
import { InvalidRequestError, NotFoundError } from "../../shared/errors.js";
import { newKeyMaterial } from "../key-secret.js";
import type { CreatedKey, KeyPatch, KeyRecord, KeyScope, KeyStore } from "../key-store.js";
import { findKey } from "../key-store-file.js";
import type { PgListener } from "./pg-listener.js";
import { inTransaction } from "./pg-pool.js";

export const KEYS_CHANNEL = "openclaw_keys";
/** The key set is re-read this often even without a NOTIFY (a missed one, a proxy that drops LISTEN). */
export const KEYS_REREAD_MS = 30_000;
const KEYS_LOCK = 0x6f63_6b73; // "ocks"

const SCOPE_FIELDS = ["models", "agents", "rpm", "tpm", "maxParallel", "budget", "expiresAt"] as const;

/**
 * Keys in PostgreSQL, one row each (the record as JSON: a salted hash, never the secret). Changes
 * run in a transaction under an advisory lock (names stay unique among active keys) and NOTIFY
 * every replica, whose key index reloads.
 */
export class PgKeyStore implements KeyStore {
  constructor(
    private readonly pool: Pool,
    private readonly listener: PgListener | undefined,
    private readonly rereadMs = KEYS_REREAD_MS,
  ) {}

  async list(): Promise<KeyRecord[]> {
    const { rows } = await this.pool.query<{ record: string }>("SELECT record FROM api_keys ORDER BY created_at, id");
    return rows.map((row) => JSON.parse(row.record) as KeyRecord);
  }

  async find(idOrName: string): Promise<KeyRecord | undefined> {
    return findKey(await this.list(), idOrName);
  }

  /** Read all, change, write the changed row, NOTIFY; one transaction under the keys lock. */
  private change<T>(mutate: (keys: KeyRecord[]) => { result: T; record: KeyRecord }): Promise<T> {
    return inTransaction(this.pool, async (client) => {
      await client.query("SELECT pg_advisory_xact_lock($1)", [KEYS_LOCK]);
      const { rows } = await client.query<{ record: string }>("SELECT record FROM api_keys ORDER BY created_at, id");
      const { result, record } = mutate(rows.map((row) => JSON.parse(row.record) as KeyRecord));
      await client.query(
        `INSERT INTO api_keys (id, name, created_at, record) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, record = excluded.record`,
        [record.id, record.name, record.createdAt, JSON.stringify(record)],
      );
      await client.query("SELECT pg_notify($1, $2)", [KEYS_CHANNEL, record.id]);
      return result;
    });
  }

  create(name: string, scope: KeyScope, now = Date.now()): Promise<CreatedKey> {
    return this.change((keys) => {
      assertFreeName(keys, name);
      const { secret, ...material } = newKeyMaterial();
      const record: KeyRecord = { ...material, name, ...scope, createdAt: now };
      return { result: { record, secret }, record };
    });
  }

  update(idOrName: string, patch: KeyPatch): Promise<KeyRecord> {
    return this.change((keys) => {
      const record = findKey(keys, idOrName);
      if (!record) throw new NotFoundError(`no key ${JSON.stringify(idOrName)}: see openclaw keys list`);
      if (patch.name !== undefined) {
        assertFreeName(keys, patch.name, record.id);
        record.name = patch.name;
      }
      const fields = record as unknown as Record<string, unknown>;
      for (const field of SCOPE_FIELDS) {
        const value = patch[field];
        if (value === null) delete fields[field];
        else if (value !== undefined) fields[field] = value;
      }
      return { result: record, record };
    });
  }

  revoke(idOrName: string, now = Date.now()): Promise<KeyRecord> {
    return this.change((keys) => {
      const record = findKey(keys, idOrName);
      if (!record) throw new NotFoundError(`no key ${JSON.stringify(idOrName)}: see openclaw keys list`);
      record.revokedAt ??= now;
      return { result: record, record };
    });
  }

  /** NOTIFY from any machine (debounced), and a periodic re-read as a safety net. */
  watch(onChange: () => void, delayMs = 50): () => void {
    let timer: NodeJS.Timeout | undefined;
    const soon = () => {
      clearTimeout(timer);
      timer = setTimeout(onChange, delayMs);
    };
    const stop = this.listener?.listen(KEYS_CHANNEL, soon);
    const interval = setInterval(onChange, this.rereadMs);
    interval.unref();
    return () => {
      clearTimeout(timer);
      clearInterval(interval);
      stop?.();
    };
  }
}

function assertFreeName(keys: KeyRecord[], name: string, except?: string): void {
  if (keys.some((key) => key.name === name && key.revokedAt === undefined && key.id !== except))
    throw new InvalidRequestError(`a key named ${JSON.stringify(name)} already exists: pick another name, or revoke that key first`, {
      param: "name",
    });
}
