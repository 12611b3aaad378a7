import type Database from "better-sqlite3";

/**
 * The session database: sessions with their turns (cascading), stored `/v1/responses` results,
 * and the usage ledger (`requests`: one metadata row per request, no content).
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS sessions (
  key TEXT PRIMARY KEY,
  agent_id TEXT NOT NULL,
  channel TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  turns INTEGER NOT NULL DEFAULT 0,
  prompt_tokens INTEGER NOT NULL DEFAULT 0,
  completion_tokens INTEGER NOT NULL DEFAULT 0,
  cost REAL NOT NULL DEFAULT 0,
  last_model TEXT
);
CREATE INDEX IF NOT EXISTS sessions_updated ON sessions (updated_at DESC);
CREATE TABLE IF NOT EXISTS turns (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  session_key TEXT NOT NULL REFERENCES sessions (key) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  endpoint TEXT NOT NULL,
  model TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT,
  input TEXT NOT NULL,
  output TEXT,
  usage TEXT,
  cost REAL,
  receipt TEXT,
  request_id TEXT
);
CREATE INDEX IF NOT EXISTS turns_session ON turns (session_key, id);
CREATE TABLE IF NOT EXISTS responses (
  id TEXT PRIMARY KEY,
  agent_id TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  response TEXT NOT NULL,
  history TEXT NOT NULL,
  output TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS responses_created ON responses (created_at);
CREATE TABLE IF NOT EXISTS requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  request_id TEXT NOT NULL,
  agent_id TEXT,
  key_id TEXT,
  model TEXT,
  provider TEXT,
  endpoint TEXT NOT NULL,
  status TEXT NOT NULL,
  error TEXT,
  prompt_tokens INTEGER,
  completion_tokens INTEGER,
  cached_tokens INTEGER,
  cost REAL,
  latency_ms REAL NOT NULL,
  session_key TEXT,
  stream INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS requests_at ON requests (at);
CREATE TABLE IF NOT EXISTS key_spend (
  key_id TEXT PRIMARY KEY,
  cost REAL NOT NULL DEFAULT 0,
  requests INTEGER NOT NULL DEFAULT 0
);
`;

/**
 * Changes to databases created by older versions, each idempotent: `CREATE TABLE IF NOT EXISTS`
 * leaves an existing table as it was.
 */
export function migrateSchema(db: Database.Database): void {
  const columns = db.prepare("PRAGMA table_info(requests)").all() as Array<{ name: string }>;
  if (!columns.some((column) => column.name === "key_id")) db.exec("ALTER TABLE requests ADD COLUMN key_id TEXT");
  const turnColumns = db.prepare("PRAGMA table_info(turns)").all() as Array<{ name: string }>;
  if (!turnColumns.some((column) => column.name === "receipt")) db.exec("ALTER TABLE turns ADD COLUMN receipt TEXT");
  if (!turnColumns.some((column) => column.name === "request_id")) db.exec("ALTER TABLE turns ADD COLUMN request_id TEXT");
  // Budgets sum one key's spend since a date: this keeps that an index range, not a scan.
  db.exec("CREATE INDEX IF NOT EXISTS requests_key_at ON requests (key_id, at)");
}
