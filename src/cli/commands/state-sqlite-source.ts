import Database from "better-sqlite3";
import type { TurnRecord } from "../../store/session-store.js";
import type { RequestRecord } from "../../store/usage-ledger.js";

// biome-ignore lint/suspicious/noExplicitAny: rows as SQLite returns them, mapped field by field below
type Row = Record<string, any>;

export interface SqliteState {
  turns: Array<{ id: number; turn: TurnRecord }>;
  responses: Array<{ id: string; agent_id: string; created_at: number; response: string; history: string; output: string }>;
  requests: Array<{ id: number; request: RequestRecord }>;
  keySpend: Array<{ key_id: string; cost: number; requests: number }>;
}

const has = (db: Database.Database, table: string) =>
  db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== undefined;

/** Everything `state migrate` moves from `openclaw.db`, read-only (databases of older versions lack some columns: they read as absent). */
export function readSqliteState(file: string): SqliteState {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const turns = has(db, "turns")
      ? (db.prepare("SELECT t.*, s.agent_id, s.channel FROM turns t JOIN sessions s ON s.key = t.session_key ORDER BY t.id").all() as Row[])
      : [];
    const requests = has(db, "requests") ? (db.prepare("SELECT * FROM requests ORDER BY id").all() as Row[]) : [];
    return {
      turns: turns.map((row) => ({
        id: row.id,
        turn: {
          sessionKey: row.session_key,
          agentId: row.agent_id,
          ...(row.channel ? { channel: row.channel } : {}),
          model: row.model,
          endpoint: row.endpoint,
          input: JSON.parse(row.input),
          output: row.output === null ? null : JSON.parse(row.output),
          usage: row.usage === null ? null : JSON.parse(row.usage),
          cost: row.cost,
          status: row.status,
          ...(row.error ? { error: row.error } : {}),
          at: row.at,
          ...(row.receipt ? { receipt: JSON.parse(row.receipt) } : {}),
          ...(row.request_id ? { requestId: row.request_id } : {}),
        } as TurnRecord,
      })),
      responses: has(db, "responses")
        ? (db.prepare("SELECT * FROM responses ORDER BY created_at, id").all() as SqliteState["responses"])
        : [],
      requests: requests.map((row) => ({
        id: row.id,
        request: {
          requestId: row.request_id,
          at: row.at,
          agentId: row.agent_id,
          keyId: row.key_id ?? null,
          model: row.model,
          provider: row.provider,
          endpoint: row.endpoint,
          status: row.status,
          ...(row.error ? { error: row.error } : {}),
          promptTokens: row.prompt_tokens,
          completionTokens: row.completion_tokens,
          cachedTokens: row.cached_tokens,
          cost: row.cost,
          latencyMs: row.latency_ms,
          sessionKey: row.session_key,
          stream: row.stream === 1,
        },
      })),
      keySpend: has(db, "key_spend") ? (db.prepare("SELECT key_id, cost, requests FROM key_spend").all() as SqliteState["keySpend"]) : [],
    };
  } finally {
    db.close();
  }
}
