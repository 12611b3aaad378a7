import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import type { RequestRecord } from "../../src/store/usage-ledger.js";

export interface LedgerRow {
  id: number;
  at: number;
  request_id: string;
  agent_id: string | null;
  model: string | null;
  provider: string | null;
  endpoint: string;
  status: string;
  error: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cached_tokens: number | null;
  cost: number | null;
  latency_ms: number;
  session_key: string | null;
  stream: number;
}

/** Reads one table of the gateway's database, as another process would (the gateway keeps writing). */
export function readTable<Row>(stateDir: string, sql: string, ...params: unknown[]): Row[] {
  const file = path.join(stateDir, "openclaw.db");
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).all(...params) as Row[];
  } catch (error) {
    // The gateway opens its database on first use: until the writer has created the tables, no rows.
    if (/^no such table/.test((error as Error).message)) return [];
    throw error;
  } finally {
    db.close();
  }
}

export const ledgerRow = (stateDir: string, requestId: string): LedgerRow | undefined =>
  readTable<LedgerRow>(stateDir, "SELECT * FROM requests WHERE request_id = ?", requestId)[0];

/** Whether `text` is anywhere in the database's files (the database, its WAL), in any page, live or free. */
export function databaseFilesContain(stateDir: string, text: string): boolean {
  const needle = Buffer.from(text);
  return ["openclaw.db", "openclaw.db-wal"].some((name) => {
    const file = path.join(stateDir, name);
    return existsSync(file) && readFileSync(file).includes(needle);
  });
}

/** A ledger row for store tests: a small successful chat request, with the fields a test cares about. */
export const requestRecord = (at: number, fields: Partial<RequestRecord> = {}): RequestRecord => ({
  requestId: `req_${at}_${Math.random()}`,
  at,
  agentId: "main",
  keyId: null,
  model: "chutes/a",
  provider: "chutes",
  endpoint: "chat.completions",
  status: "ok",
  promptTokens: 10,
  completionTokens: 5,
  cachedTokens: null,
  cost: 0.001,
  latencyMs: 100,
  sessionKey: null,
  stream: false,
  ...fields,
});
