import type { Pool } from "pg";
import { checkout } from "./pg-pool.js";

/**
 * Migrations, in order; the version of each is its index + 1. Never edit one that shipped: add
 * the next. `turns.uid` and `requests.uid` make every write idempotent (a batch retried after a
 * lost COMMIT acknowledgement, `state migrate` run twice), and session totals are summed from the
 * rows actually inserted.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sessions (
    key TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    channel TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    turns INTEGER NOT NULL DEFAULT 0,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    cost DOUBLE PRECISION NOT NULL DEFAULT 0,
    last_model TEXT
  );
  CREATE INDEX sessions_updated ON sessions (updated_at DESC);
  CREATE TABLE turns (
    id BIGSERIAL PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    session_key TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    channel TEXT,
    at BIGINT NOT NULL,
    endpoint TEXT NOT NULL,
    model TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    input TEXT NOT NULL,
    output TEXT,
    usage TEXT,
    cost DOUBLE PRECISION,
    receipt TEXT,
    request_id TEXT
  );
  CREATE INDEX turns_session ON turns (session_key, id);
  CREATE TABLE responses (
    id TEXT PRIMARY KEY,
    agent_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    response TEXT NOT NULL,
    history TEXT NOT NULL,
    output TEXT NOT NULL
  );
  CREATE INDEX responses_created ON responses (created_at);
  CREATE TABLE requests (
    id BIGSERIAL PRIMARY KEY,
    uid TEXT NOT NULL UNIQUE,
    at BIGINT NOT NULL,
    request_id TEXT NOT NULL,
    agent_id TEXT,
    key_id TEXT,
    model TEXT,
    provider TEXT,
    endpoint TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    prompt_tokens BIGINT,
    completion_tokens BIGINT,
    cached_tokens BIGINT,
    cost DOUBLE PRECISION,
    latency_ms DOUBLE PRECISION NOT NULL,
    session_key TEXT,
    stream BOOLEAN NOT NULL
  );
  CREATE INDEX requests_at ON requests (at);
  CREATE INDEX requests_key_at ON requests (key_id, at);
  CREATE TABLE key_spend (
    key_id TEXT PRIMARY KEY,
    cost DOUBLE PRECISION NOT NULL DEFAULT 0,
    requests BIGINT NOT NULL DEFAULT 0
  );
  CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    record TEXT NOT NULL
  );
  CREATE TABLE credentials (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    nonce BYTEA NOT NULL,
    sealed BYTEA NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
  );
  `,
];

/** Every openclaw process takes this session lock to migrate: replicas starting together migrate once. */
const MIGRATION_LOCK = 0x6f70_636c; // "opcl"

export interface MigrationResult {
  from: number;
  to: number;
}

/**
 * Bring the schema to the latest version under `pg_advisory_lock`: the first process applies the
 * migrations (each in its own transaction with its version row), the others wait for the lock,
 * then find nothing left to do.
 */
export async function migrate(pool: Pool, now: () => number = Date.now): Promise<MigrationResult> {
  const client = await checkout(pool);
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    try {
      await client.query("CREATE TABLE IF NOT EXISTS openclaw_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
      const { rows } = await client.query<{ version: number | null }>("SELECT max(version) AS version FROM openclaw_schema");
      const from = rows[0]?.version ?? 0;
      for (let version = from + 1; version <= MIGRATIONS.length; version++) {
        await client.query("BEGIN");
        try {
          await client.query(MIGRATIONS[version - 1] as string);
          await client.query("INSERT INTO openclaw_schema (version, applied_at) VALUES ($1, $2)", [version, now()]);
          await client.query("COMMIT");
        } catch (error) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw error;
        }
      }
      return { from, to: Math.max(from, MIGRATIONS.length) };
    } finally {
      await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    }
  } finally {
    client.done();
  }
}
