import { chmodSync, closeSync, openSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { ensurePrivateDir } from "../config/paths.js";
import { DEFAULT_FLUSH_DELAY_MS, DEFAULT_MAX_BATCH_TURNS, MAX_QUEUED } from "./batch-limits.js";
import { requestSeries } from "./request-series.js";
import type { StoredResponse } from "./response-store.js";
import { type RetentionOptions, type RetentionSettings, RetentionTask } from "./retention.js";
import type { SessionListQuery } from "./session-reader.js";
import type { SessionSummary, TurnRecord } from "./session-store.js";
import { createBatchWriter, type RecordBatch } from "./sqlite-batch-writer.js";
import { migrateSchema, SCHEMA } from "./sqlite-schema.js";
import { aggregateRequests } from "./usage-aggregate.js";
import type { RequestQuery, RequestRecord, SeriesPoint, SeriesQuery, UsageQuery, UsageRow } from "./usage-ledger.js";

export { DEFAULT_FLUSH_DELAY_MS, DEFAULT_MAX_BATCH_TURNS, MAX_QUEUED } from "./batch-limits.js";

interface SessionRow {
  key: string;
  agent_id: string;
  channel: string | null;
  created_at: number;
  updated_at: number;
  turns: number;
  prompt_tokens: number;
  completion_tokens: number;
  cost: number;
  last_model: string | null;
}

interface TurnRow {
  session_key: string;
  at: number;
  endpoint: string;
  model: string;
  status: TurnRecord["status"];
  error: string | null;
  input: string;
  output: string | null;
  usage: string | null;
  cost: number | null;
  receipt?: string | null;
  request_id?: string | null;
}

const toSummary = (row: SessionRow): SessionSummary => ({
  key: row.key,
  agentId: row.agent_id,
  channel: row.channel,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  turns: row.turns,
  promptTokens: row.prompt_tokens,
  completionTokens: row.completion_tokens,
  cost: row.cost,
  lastModel: row.last_model,
});

interface RequestRow {
  at: number;
  request_id: string;
  agent_id: string | null;
  key_id: string | null;
  model: string | null;
  provider: string | null;
  endpoint: string;
  status: RequestRecord["status"];
  error: string | null;
  prompt_tokens: number | null;
  completion_tokens: number | null;
  cached_tokens: number | null;
  cost: number | null;
  latency_ms: number;
  session_key: string | null;
  stream: number;
}

const toRequestRecord = (row: RequestRow): RequestRecord => ({
  requestId: row.request_id,
  at: row.at,
  agentId: row.agent_id,
  keyId: row.key_id,
  model: row.model,
  provider: row.provider,
  endpoint: row.endpoint,
  status: row.status,
  ...(row.error === null ? {} : { error: row.error }),
  promptTokens: row.prompt_tokens,
  completionTokens: row.completion_tokens,
  cachedTokens: row.cached_tokens,
  cost: row.cost,
  latencyMs: row.latency_ms,
  sessionKey: row.session_key,
  stream: row.stream === 1,
});

export interface SqliteStoreOptions {
  /** Longest a recorded turn waits in memory before it is written. */
  flushDelayMs?: number;
  /** Most turns that wait in memory: reaching it writes the batch at once. */
  maxBatchTurns?: number;
}

const DB_FILE_SUFFIXES = ["", "-wal", "-shm", "-journal"];

/**
 * The database holds prompts: 0600 whatever the directory's mode. SQLite creates the database
 * 0644 (less the umask) and gives its -wal/-shm the database's mode, so the database is created
 * here first, and files left by older versions are tightened.
 */
function makeDatabaseFilesPrivate(file: string): void {
  closeSync(openSync(file, "a", 0o600));
  for (const suffix of DB_FILE_SUFFIXES) {
    try {
      chmodSync(`${file}${suffix}`, 0o600);
    } catch (error) {
      if ((error as { code?: string }).code !== "ENOENT") throw error;
    }
  }
}

/**
 * SQLite in WAL mode under the state dir, used synchronously: the gateway drives it only from its
 * writer thread (`store-worker.ts`), the CLI reads it directly. Turns and ledger rows are queued
 * and written in one transaction per batch (bounded by time and count, see
 * `DEFAULT_MAX_BATCH_TURNS`); stored responses are written at once (the next request may continue
 * from them, and the client is told only once they are).
 */
export class SqliteStore {
  readonly db: Database.Database;
  private queue: RecordBatch = { turns: [], requests: [] };
  private timer: NodeJS.Timeout | undefined;
  private readonly writeBatch: (batch: RecordBatch) => void;

  /** Told when a batch could not be written (the gateway logs it; requests go on). */
  onWriteError: (error: Error, droppedTurns: number) => void = () => undefined;
  private retries = 0;

  private retention: RetentionTask | undefined;
  private readonly flushDelayMs: number;
  private readonly maxBatchTurns: number;

  constructor(file: string, options: SqliteStoreOptions = {}) {
    this.flushDelayMs = options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS;
    this.maxBatchTurns = options.maxBatchTurns ?? DEFAULT_MAX_BATCH_TURNS;
    if (file !== ":memory:") {
      ensurePrivateDir(path.dirname(file));
      makeDatabaseFilesPrivate(file);
    }
    this.db = new Database(file);
    // Lets retention hand freed pages back to the file system; takes effect only for a new database.
    this.db.pragma("auto_vacuum = INCREMENTAL");
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.pragma("foreign_keys = ON");
    // Short: a busy database must not stall the writer; a busy batch is retried later.
    this.db.pragma("busy_timeout = 100");
    this.db.exec(SCHEMA);
    migrateSchema(this.db);
    this.writeBatch = createBatchWriter(this.db);
  }

  recordTurn(turn: TurnRecord): void {
    this.queue.turns.push(turn);
    this.queued();
  }

  recordRequest(request: RequestRecord): void {
    this.queue.requests.push(request);
    this.queued();
  }

  /** Write several records at once (the writer thread hands over whole batches). */
  recordBatch(batch: RecordBatch): void {
    for (const turn of batch.turns) this.queue.turns.push(turn);
    for (const request of batch.requests) this.queue.requests.push(request);
    this.queued();
  }

  private get queuedCount(): number {
    return this.queue.turns.length + this.queue.requests.length;
  }

  private queued(): void {
    const excess = this.queuedCount - MAX_QUEUED;
    if (excess > 0) {
      // A database that stays locked must not grow memory without bound: drop the oldest.
      const turns = this.queue.turns.splice(0, Math.min(excess, this.queue.turns.length)).length;
      this.queue.requests.splice(0, excess - turns);
      this.onWriteError(new Error("the session database is locked; oldest records dropped"), excess);
    }
    // While a locked database is being retried, wait for the retry rather than block on it again.
    if (this.queuedCount >= this.maxBatchTurns && this.retries === 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushDelayMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queuedCount === 0) return;
    const batch = this.queue;
    this.queue = { turns: [], requests: [] };
    try {
      this.writeBatch(batch);
      this.retries = 0;
    } catch (error) {
      // Accounting must never take the gateway down: retry a busy database a few times, then drop.
      const busy = (error as { code?: string }).code === "SQLITE_BUSY" || (error as { code?: string }).code === "SQLITE_LOCKED";
      if (busy && this.retries < 20) {
        this.retries++;
        this.queue = { turns: [...batch.turns, ...this.queue.turns], requests: [...batch.requests, ...this.queue.requests] };
        this.timer = setTimeout(() => this.flush(), 250);
        return;
      }
      this.retries = 0;
      this.onWriteError(error as Error, batch.turns.length + batch.requests.length);
    }
  }

  /** The usage ledger, newest first. */
  queryRequests(query: RequestQuery = {}): RequestRecord[] {
    this.flush();
    const rows = this.db
      .prepare(
        `SELECT * FROM requests WHERE at >= @since AND at < @until AND (@agentId IS NULL OR agent_id = @agentId)
         AND (@keyId IS NULL OR key_id = @keyId) ORDER BY at DESC, id DESC LIMIT @limit`,
      )
      .all({
        since: query.since ?? 0,
        until: query.until ?? Number.MAX_SAFE_INTEGER,
        agentId: query.agentId ?? null,
        keyId: query.keyId ?? null,
        limit: query.limit ?? 1000,
      }) as RequestRow[];
    return rows.map(toRequestRecord);
  }

  /** See `UsageLedger.keySpend`: lifetime from `key_spend`, else an indexed sum over the ledger. */
  keySpend(keyId: string, since: number): number {
    this.flush();
    const row =
      since <= 0
        ? (this.db.prepare("SELECT cost FROM key_spend WHERE key_id = ?").get(keyId) as { cost: number } | undefined)
        : (this.db.prepare("SELECT TOTAL(cost) AS cost FROM requests WHERE key_id = ? AND at >= ?").get(keyId, since) as { cost: number });
    return row?.cost ?? 0;
  }

  /** Ledger totals per key, model, agent, provider or day (see usage-aggregate.ts). */
  aggregateRequests(query: UsageQuery): UsageRow[] {
    this.flush();
    return aggregateRequests(this.db, query);
  }

  /** Ledger buckets over time (see request-series.ts). */
  requestSeries(query: SeriesQuery): SeriesPoint[] {
    this.flush();
    return requestSeries(this.db, query);
  }

  listSessions(options: SessionListQuery = {}): SessionSummary[] {
    this.flush();
    if (options.text) return this.searchSessions(options);
    const rows = options.agentId
      ? this.db
          .prepare("SELECT * FROM sessions WHERE agent_id = ? ORDER BY updated_at DESC LIMIT ?")
          .all(options.agentId, options.limit ?? 50)
      : this.db.prepare("SELECT * FROM sessions ORDER BY updated_at DESC LIMIT ?").all(options.limit ?? 50);
    return (rows as SessionRow[]).map(toSummary);
  }

  /** Sessions whose key, agent or last model contain the text (LIKE with its wildcards escaped). */
  private searchSessions(options: SessionListQuery): SessionSummary[] {
    const pattern = `%${(options.text ?? "").replace(/[\\%_]/g, (match) => `\\${match}`)}%`;
    const rows = this.db
      .prepare(
        `SELECT * FROM sessions WHERE (@agentId IS NULL OR agent_id = @agentId)
         AND (key LIKE @pattern ESCAPE '\\' OR agent_id LIKE @pattern ESCAPE '\\' OR last_model LIKE @pattern ESCAPE '\\')
         ORDER BY updated_at DESC LIMIT @limit`,
      )
      .all({ agentId: options.agentId ?? null, pattern, limit: options.limit ?? 50 });
    return (rows as SessionRow[]).map(toSummary);
  }

  getSession(key: string): { session: SessionSummary; turns: TurnRecord[] } | undefined {
    this.flush();
    const row = this.db.prepare("SELECT * FROM sessions WHERE key = ?").get(key) as SessionRow | undefined;
    if (!row) return undefined;
    const turns = (this.db.prepare("SELECT * FROM turns WHERE session_key = ? ORDER BY id").all(key) as TurnRow[]).map(
      (turn): TurnRecord => ({
        sessionKey: turn.session_key,
        agentId: row.agent_id,
        channel: row.channel ?? undefined,
        model: turn.model,
        endpoint: turn.endpoint,
        ...(turn.request_id ? { requestId: turn.request_id } : {}),
        input: JSON.parse(turn.input),
        output: turn.output === null ? null : JSON.parse(turn.output),
        usage: turn.usage === null ? null : JSON.parse(turn.usage),
        cost: turn.cost,
        status: turn.status,
        error: turn.error ?? undefined,
        at: turn.at,
        ...(turn.receipt ? { receipt: JSON.parse(turn.receipt) } : {}),
      }),
    );
    return { session: toSummary(row), turns };
  }

  saveResponse(stored: StoredResponse): void {
    this.db
      .prepare("INSERT OR REPLACE INTO responses (id, agent_id, created_at, response, history, output) VALUES (?, ?, ?, ?, ?, ?)")
      .run(
        stored.id,
        stored.agentId,
        stored.createdAt,
        JSON.stringify(stored.response),
        JSON.stringify(stored.history),
        JSON.stringify(stored.output),
      );
  }

  getResponse(id: string): StoredResponse | undefined {
    const row = this.db.prepare("SELECT * FROM responses WHERE id = ?").get(id) as
      | { id: string; agent_id: string; created_at: number; response: string; history: string; output: string }
      | undefined;
    if (!row) return undefined;
    return {
      id: row.id,
      agentId: row.agent_id,
      createdAt: row.created_at,
      response: JSON.parse(row.response),
      history: JSON.parse(row.history),
      output: JSON.parse(row.output),
    };
  }

  deleteResponse(id: string): boolean {
    return this.db.prepare("DELETE FROM responses WHERE id = ?").run(id).changes > 0;
  }

  /** Bound the database by age and size (`gateway.sessions`): a pass now, then periodically. */
  startMaintenance(settings?: RetentionSettings, options?: RetentionOptions): RetentionTask {
    this.retention?.stop();
    this.retention = new RetentionTask(this.db, settings, options);
    this.retention.start();
    return this.retention;
  }

  close(): void {
    this.retention?.stop();
    this.flush();
    // Closing the last connection checkpoints the WAL and removes it.
    this.db.close();
  }
}

export function openStateStore(stateDir: string): SqliteStore {
  return new SqliteStore(path.join(stateDir, "openclaw.db"));
}
