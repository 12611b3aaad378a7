import { setImmediate as yieldToLoop } from "node:timers/promises";
import type Database from "better-sqlite3";

/** `gateway.sessions` in the config. */
export interface RetentionSettings {
  retentionDays?: number | undefined;
  maxDatabaseMb?: number | undefined;
}

export interface RetentionOptions {
  now?: () => number;
  /** Between passes; the first pass runs at start. */
  intervalMs?: number;
  onError?: (error: Error) => void;
}

export interface RetentionReport {
  turns: number;
  sessions: number;
  responses: number;
  requests: number;
}

export const DEFAULT_RETENTION_DAYS = 30;
export const DEFAULT_MAX_DATABASE_MB = 1024;
export const RETENTION_INTERVAL_MS = 10 * 60_000;
/** Rows per transaction: each step is short, and the event loop runs between steps. */
const BATCH = 256;
/** Smaller steps when trimming to size, so that little more than the excess goes. */
const TRIM_BATCH = 32;
const DAY_MS = 86_400_000;

/**
 * Keeps the session database bounded, off the request path: turns, stored responses and ledger
 * rows older than `retentionDays` go, then the oldest records until the live data fits `maxDatabaseMb`;
 * sessions left without turns go with them. Afterwards free pages are returned to the file
 * system (databases created with incremental auto-vacuum) and the WAL is checkpointed and
 * truncated. Session totals (tokens, cost) stay lifetime totals.
 */
export class RetentionTask {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RetentionReport> | undefined;
  private stopped = false;
  private readonly now: () => number;
  private readonly maxAgeMs: number;
  private readonly maxBytes: number;

  constructor(
    private readonly db: Database.Database,
    settings: RetentionSettings = {},
    private readonly options: RetentionOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.maxAgeMs = (settings.retentionDays ?? DEFAULT_RETENTION_DAYS) * DAY_MS;
    this.maxBytes = (settings.maxDatabaseMb ?? DEFAULT_MAX_DATABASE_MB) * 1024 * 1024;
  }

  start(): void {
    const run = () => {
      this.runPass().catch((error: Error) => this.options.onError?.(error));
    };
    setImmediate(run);
    this.timer = setInterval(run, this.options.intervalMs ?? RETENTION_INTERVAL_MS);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
  }

  /** One pass; a pass already running is joined rather than doubled. */
  runPass(): Promise<RetentionReport> {
    this.running ??= this.pass().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async pass(): Promise<RetentionReport> {
    const report: RetentionReport = { turns: 0, sessions: 0, responses: 0, requests: 0 };
    const cutoff = this.now() - this.maxAgeMs;
    report.turns += await this.repeat(() => this.deleteTurns(cutoff));
    report.sessions += await this.repeat(() => this.deleteSessionsIdleSince(cutoff));
    report.responses += await this.repeat(() => this.deleteResponses(Math.floor(cutoff / 1000)));
    report.requests += await this.repeat(() => this.deleteRequests(cutoff));
    while (!this.stopped && this.usedBytes() > this.maxBytes) {
      const trimmed = this.trimOldest();
      if (trimmed.turns + trimmed.responses === 0) break;
      report.turns += trimmed.turns;
      report.responses += trimmed.responses;
      report.sessions += trimmed.sessions;
      await yieldToLoop();
    }
    await this.compact();
    return report;
  }

  /** Run a batch step until it has nothing left, yielding to the event loop between batches. */
  private async repeat(step: () => number): Promise<number> {
    let total = 0;
    for (;;) {
      if (this.stopped) return total;
      const changed = step();
      total += changed;
      if (changed < BATCH) return total;
      await yieldToLoop();
    }
  }

  /** Turns are in insertion (time) order by id: only the first batch of ids is looked at, never the whole table. */
  private deleteTurns(cutoffMs: number): number {
    return this.db
      .prepare("DELETE FROM turns WHERE id IN (SELECT id FROM (SELECT id, at FROM turns ORDER BY id LIMIT ?) WHERE at < ?)")
      .run(BATCH, cutoffMs).changes;
  }

  /** Ledger rows are metadata (small): they go by age only, in insertion order like turns. */
  private deleteRequests(cutoffMs: number): number {
    return this.db
      .prepare("DELETE FROM requests WHERE id IN (SELECT id FROM (SELECT id, at FROM requests ORDER BY id LIMIT ?) WHERE at < ?)")
      .run(BATCH, cutoffMs).changes;
  }

  /** A session idle since the cutoff has no turns left after `deleteTurns` (any stragglers go by cascade). */
  private deleteSessionsIdleSince(cutoffMs: number): number {
    return this.db
      .prepare("DELETE FROM sessions WHERE key IN (SELECT key FROM sessions WHERE updated_at < ? ORDER BY updated_at LIMIT ?)")
      .run(cutoffMs, BATCH).changes;
  }

  private deleteResponses(cutoffSeconds: number): number {
    return this.db
      .prepare("DELETE FROM responses WHERE id IN (SELECT id FROM responses WHERE created_at < ? ORDER BY created_at LIMIT ?)")
      .run(cutoffSeconds, BATCH).changes;
  }

  private usedBytes(): number {
    const pages = this.db.pragma("page_count", { simple: true }) as number;
    const free = this.db.pragma("freelist_count", { simple: true }) as number;
    return (pages - free) * (this.db.pragma("page_size", { simple: true }) as number);
  }

  /**
   * One batch of whichever is older, the oldest turns or the oldest stored responses, never
   * past the other's oldest record, so that the oldest records go first across both.
   */
  private trimOldest(): RetentionReport {
    const turn = this.db.prepare("SELECT at FROM turns ORDER BY id LIMIT 1").get() as { at: number } | undefined;
    const response = this.db.prepare("SELECT created_at FROM responses ORDER BY created_at LIMIT 1").get() as
      | { created_at: number }
      | undefined;
    if (turn && (!response || turn.at <= response.created_at * 1000)) {
      const upTo = response ? response.created_at * 1000 + 999 : Number.MAX_SAFE_INTEGER;
      return this.db.transaction(() => {
        const deleted = this.db
          .prepare(
            "DELETE FROM turns WHERE id IN (SELECT id FROM (SELECT id, at FROM turns ORDER BY id LIMIT ?) WHERE at <= ?) RETURNING at",
          )
          .all(TRIM_BATCH, upTo) as Array<{ at: number }>;
        const last = Math.max(...deleted.map((row) => row.at));
        return { turns: deleted.length, sessions: this.deleteSessionsIdleSince(last + 1), responses: 0, requests: 0 };
      })();
    }
    if (!response) return { turns: 0, sessions: 0, responses: 0, requests: 0 };
    const upTo = turn ? Math.floor(turn.at / 1000) : Number.MAX_SAFE_INTEGER;
    const responses = this.db
      .prepare("DELETE FROM responses WHERE id IN (SELECT id FROM responses WHERE created_at <= ? ORDER BY created_at LIMIT ?)")
      .run(upTo, TRIM_BATCH).changes;
    return { turns: 0, sessions: 0, responses, requests: 0 };
  }

  /** Give freed pages back to the file system in steps, then move the WAL into the database and truncate it. */
  private async compact(): Promise<void> {
    if ((this.db.pragma("auto_vacuum", { simple: true }) as number) === 2) {
      while (!this.stopped && (this.db.pragma("freelist_count", { simple: true }) as number) > 0) {
        this.db.pragma(`incremental_vacuum(${BATCH * 4})`);
        await yieldToLoop();
      }
    }
    if (!this.stopped) this.db.pragma("wal_checkpoint(TRUNCATE)");
  }
}
