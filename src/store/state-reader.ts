import { existsSync } from "node:fs";
import path from "node:path";
import type { OpenClawConfig } from "../config/schema.js";
import type { KeyStore } from "./key-store.js";
import { LocalKeyStore } from "./key-store-file.js";
import type { SessionSummary, TurnRecord } from "./session-store.js";
import type { UsageQuery, UsageRow } from "./usage-ledger.js";

/** What the CLI reads (`sessions`, `usage`, `keys`), from SQLite on this machine or from the shared PostgreSQL. */
export interface StateReader {
  /** "SQLite <file>" or the redacted PostgreSQL URL. */
  readonly source: string;
  listSessions(options?: { limit?: number; agentId?: string }): Promise<SessionSummary[]>;
  getSession(key: string): Promise<{ session: SessionSummary; turns: TurnRecord[] } | undefined>;
  aggregateRequests(query: UsageQuery): Promise<UsageRow[]>;
  keySpend(keyId: string, since: number): Promise<number>;
  close(): Promise<void>;
}

const EMPTY: Omit<StateReader, "source"> = {
  listSessions: async () => [],
  getSession: async () => undefined,
  aggregateRequests: async () => [],
  keySpend: async () => 0,
  close: async () => undefined,
};

/**
 * The reader for this config: PostgreSQL when `gateway.state.postgres` (or OPENCLAW_DATABASE_URL)
 * is set, else `<stateDir>/openclaw.db`, opened only when it exists unless `create` (listing never
 * has to create a database).
 */
export async function openStateReader(stateDir: string, config: OpenClawConfig, options: { create?: boolean } = {}): Promise<StateReader> {
  const { postgresUrlOf } = await import("./postgres/pg-pool.js");
  const url = postgresUrlOf(config);
  if (url) {
    const { connectPostgres, PgStateStore, redactPostgresUrl, releasePostgres } = await import("./postgres/index.js");
    const { pool } = await connectPostgres(url);
    const store = new PgStateStore(pool, { release: () => releasePostgres(url) });
    return {
      source: `PostgreSQL ${redactPostgresUrl(url)}`,
      listSessions: (query) => store.listSessions(query),
      getSession: (key) => store.getSession(key),
      aggregateRequests: (query) => store.aggregateRequests(query),
      keySpend: (keyId, since) => store.keySpend(keyId, since),
      close: () => store.close(),
    };
  }
  const file = path.join(stateDir, "openclaw.db");
  if (!options.create && !existsSync(file)) return { source: `SQLite ${file}`, ...EMPTY };
  const { SqliteStore } = await import("./sqlite-store.js");
  const store = new SqliteStore(file);
  return {
    source: `SQLite ${file}`,
    listSessions: async (query) => store.listSessions(query),
    getSession: async (key) => store.getSession(key),
    aggregateRequests: async (query) => store.aggregateRequests(query),
    keySpend: async (keyId, since) => store.keySpend(keyId, since),
    close: async () => store.close(),
  };
}

/** The key store for this config: the PostgreSQL table when configured, else `<stateDir>/keys.json`. */
export async function openKeyStore(stateDir: string, config: OpenClawConfig): Promise<KeyStore> {
  const { postgresUrlOf } = await import("./postgres/pg-pool.js");
  const url = postgresUrlOf(config);
  if (!url) return LocalKeyStore.inStateDir(stateDir);
  const { connectPostgres } = await import("./postgres/index.js");
  const { PgKeyStore } = await import("./postgres/pg-key-store.js");
  return new PgKeyStore((await connectPostgres(url)).pool, undefined);
}
