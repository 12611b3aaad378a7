import { chmodSync, closeSync, openSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { ensurePrivateDir } from "../config/paths.js";
import type { StoredResponse } from "./response-store.js";
import { type RetentionOptions, type RetentionSettings, RetentionTask } from "./retention.js";
import type { SessionSummary, TurnRecord } from "./session-store.js";
import { SCHEMA } from "./sqlite-schema.js";
import type { StateStore } from "./state-store.js";

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

const MAX_QUEUED = 10_000;

export interface SqliteStoreOptions {
  /** Longest a recorded turn waits in memory before it is written. */
  flushDelayMs?: number;
  /** Most turns that wait in memory: reaching it writes the batch at once. */
  maxBatchTurns?: number;
}

/**
 * What a hard crash (`kill -9`) can lose: the turns still queued in memory, so at most
 * `DEFAULT_FLUSH_DELAY_MS` of them and never more than `DEFAULT_MAX_BATCH_TURNS`. A written
 * batch survives a process crash (WAL, synchronous=NORMAL); a power loss may lose the last
 * transactions since a checkpoint. While another process keeps the database locked, turns wait
 * for the retry (up to `MAX_QUEUED`).
 */
export const DEFAULT_FLUSH_DELAY_MS = 25;
export const DEFAULT_MAX_BATCH_TURNS = 64;

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
 * SQLite in WAL mode under the state dir. Turns are queued and written in one transaction per
 * batch (bounded by time and count, see `DEFAULT_MAX_BATCH_TURNS`); stored responses are written
 * at once (the next request may continue from them, and the client is told only once they are).
 */
export class SqliteStore implements StateStore {
  readonly db: Database.Database;
  private queue: TurnRecord[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly upsertSession: Database.Statement;
  private readonly insertTurn: Database.Statement;
  private readonly writeBatch: (turns: TurnRecord[]) => void;

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
    // Short: a busy database must not stall the event loop; a busy batch is retried later.
    this.db.pragma("busy_timeout = 100");
    this.db.exec(SCHEMA);
    this.upsertSession = this.db.prepare(`
      INSERT INTO sessions (key, agent_id, channel, created_at, updated_at, turns, prompt_tokens, completion_tokens, cost, last_model)
      VALUES (@key, @agentId, @channel, @createdAt, @updatedAt, @turns, @prompt, @completion, @cost, @model)
      ON CONFLICT (key) DO UPDATE SET
        updated_at = excluded.updated_at, turns = turns + excluded.turns,
        channel = COALESCE(excluded.channel, channel),
        prompt_tokens = prompt_tokens + excluded.prompt_tokens,
        completion_tokens = completion_tokens + excluded.completion_tokens,
        cost = cost + excluded.cost, last_model = excluded.last_model`);
    this.insertTurn = this.db.prepare(`
      INSERT INTO turns (session_key, at, endpoint, model, status, error, input, output, usage, cost)
      VALUES (@sessionKey, @at, @endpoint, @model, @status, @error, @input, @output, @usage, @cost)`);
    this.writeBatch = this.db.transaction((turns: TurnRecord[]) => {
      // One session upsert per distinct session in the batch, then the turns.
      const sessions = new Map<
        string,
        {
          key: string;
          agentId: string;
          channel: string | null;
          createdAt: number;
          updatedAt: number;
          turns: number;
          prompt: number;
          completion: number;
          cost: number;
          model: string;
        }
      >();
      for (const turn of turns) {
        const session = sessions.get(turn.sessionKey);
        if (session) {
          session.updatedAt = turn.at;
          session.turns++;
          session.prompt += turn.usage?.prompt_tokens ?? 0;
          session.completion += turn.usage?.completion_tokens ?? 0;
          session.cost += turn.cost ?? 0;
          session.model = turn.model;
          session.channel = turn.channel ?? session.channel;
        } else {
          sessions.set(turn.sessionKey, {
            key: turn.sessionKey,
            agentId: turn.agentId,
            channel: turn.channel ?? null,
            createdAt: turn.at,
            updatedAt: turn.at,
            turns: 1,
            prompt: turn.usage?.prompt_tokens ?? 0,
            completion: turn.usage?.completion_tokens ?? 0,
            cost: turn.cost ?? 0,
            model: turn.model,
          });
        }
      }
      for (const session of sessions.values()) this.upsertSession.run(session);
      for (const turn of turns) {
        this.insertTurn.run({
          sessionKey: turn.sessionKey,
          at: turn.at,
          endpoint: turn.endpoint,
          model: turn.model,
          status: turn.status,
          error: turn.error ?? null,
          input: JSON.stringify(turn.input),
          output: turn.output === null ? null : JSON.stringify(turn.output),
          usage: turn.usage === null ? null : JSON.stringify(turn.usage),
          cost: turn.cost,
        });
      }
    });
  }

  recordTurn(turn: TurnRecord): void {
    this.queue.push(turn);
    if (this.queue.length > MAX_QUEUED) {
      // A database that stays locked must not grow memory without bound: drop the oldest.
      const dropped = this.queue.splice(0, this.queue.length - MAX_QUEUED);
      this.onWriteError(new Error("the session database is locked; oldest turns dropped"), dropped.length);
    }
    // While a locked database is being retried, wait for the retry rather than block on it again.
    if (this.queue.length >= this.maxBatchTurns && this.retries === 0) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushDelayMs);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    try {
      this.writeBatch(batch);
      this.retries = 0;
    } catch (error) {
      // Accounting must never take the gateway down: retry a busy database a few times, then drop.
      const busy = (error as { code?: string }).code === "SQLITE_BUSY" || (error as { code?: string }).code === "SQLITE_LOCKED";
      if (busy && this.retries < 20) {
        this.retries++;
        this.queue = [...batch, ...this.queue];
        this.timer = setTimeout(() => this.flush(), 250);
        return;
      }
      this.retries = 0;
      this.onWriteError(error as Error, batch.length);
    }
  }

  listSessions(options: { limit?: number; agentId?: string } = {}): SessionSummary[] {
    this.flush();
    const rows = options.agentId
      ? this.db
          .prepare("SELECT * FROM sessions WHERE agent_id = ? ORDER BY updated_at DESC LIMIT ?")
          .all(options.agentId, options.limit ?? 50)
      : this.db.prepare("SELECT * FROM sessions ORDER BY updated_at DESC LIMIT ?").all(options.limit ?? 50);
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
        input: JSON.parse(turn.input),
        output: turn.output === null ? null : JSON.parse(turn.output),
        usage: turn.usage === null ? null : JSON.parse(turn.usage),
        cost: turn.cost,
        status: turn.status,
        error: turn.error ?? undefined,
        at: turn.at,
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
