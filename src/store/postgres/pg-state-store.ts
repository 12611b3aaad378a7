import type { Pool } from "pg";
import { DEFAULT_FLUSH_DELAY_MS } from "../batch-limits.js";
import { seriesBucketCount } from "../request-series.js";
import type { StoredResponse } from "../response-store.js";
import type { SessionListQuery } from "../session-reader.js";
import type { SessionSummary, TurnRecord } from "../session-store.js";
import type { StateStore } from "../state-store.js";
import type { RequestQuery, RequestRecord, SeriesPoint, SeriesQuery, UsageQuery, UsageRow } from "../usage-ledger.js";
import { asStateError, inTransaction, isConnectionError } from "./pg-pool.js";
import { aggregateRequests, getSession, listSessions, queryRequests } from "./pg-readers.js";
import { insertRequests, insertTurns, type RequestRow, requestRow, type TurnRow, turnRow } from "./pg-record-writer.js";
import { requestSeries } from "./pg-series.js";

/** What the store tells the operator; a pino logger fits. */
export interface StateLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export const DEFAULT_MAX_QUEUED_RECORDS = 10_000;
/** Rows per statement: a few hundred keep one INSERT well under a megabyte of parameters. */
const MAX_BATCH = 500;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 2_000;

export interface PgStateStoreOptions {
  /** Records held in memory while PostgreSQL is unreachable; past it the oldest are dropped (reported). */
  maxQueued?: number;
  flushDelayMs?: number;
  /** How long `close()` keeps trying to write what is queued. */
  closeTimeoutMs?: number;
  log?: StateLog;
  /** Run after the last flush (the composition closes the pool and listener there). */
  release?: () => Promise<void>;
}

/**
 * Sessions, stored responses and the usage ledger in PostgreSQL, shared by every replica. Turns
 * and ledger rows are queued in memory and written in batches (one multi-row INSERT each) off the
 * request path; while the database is down they wait, bounded, and are written when it is back.
 * Stored responses are read and written at once, and fail with a 503 while it is down.
 */
export class PgStateStore implements StateStore {
  private turns: TurnRow[] = [];
  private requests: RequestRow[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private down = false;
  private retryMs = RETRY_MIN_MS;
  /** Dropped since the queue last filled up; reported once when it starts and once when the database is back. */
  private droppedThisOutage = 0;
  private closed = false;
  /** All records dropped by the bound since the start. */
  droppedTotal = 0;
  private readonly maxQueued: number;
  private readonly flushDelayMs: number;

  constructor(
    private readonly pool: Pool,
    private readonly options: PgStateStoreOptions = {},
  ) {
    this.maxQueued = options.maxQueued ?? DEFAULT_MAX_QUEUED_RECORDS;
    this.flushDelayMs = options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS;
  }

  /** Records waiting in memory (queued or being written). */
  get pending(): number {
    return this.turns.length + this.requests.length + this.inFlight;
  }

  recordTurn(turn: TurnRecord): void {
    this.turns.push(turnRow(turn));
    this.queued();
  }

  recordRequest(record: RequestRecord): void {
    this.requests.push(requestRow(record));
    this.queued();
  }

  private queued(): void {
    const excess = this.pending - this.maxQueued;
    if (excess > 0) this.drop(excess);
    if (this.closed) return;
    if (this.down) {
      // The retry timer writes them (and finds out when the database is back).
      if (!this.flushing) this.timer ??= setTimeout(() => void this.flush(), this.retryMs);
      return;
    }
    if (this.turns.length + this.requests.length >= MAX_BATCH) this.flushSoon(0);
    else this.flushSoon(this.flushDelayMs);
  }

  /** The oldest queued records go first: the newest describe the present. */
  private drop(count: number): void {
    let left = count;
    while (left > 0 && (this.turns.length > 0 || this.requests.length > 0)) {
      const turnAt = this.turns[0]?.record.at ?? Number.POSITIVE_INFINITY;
      const requestAt = this.requests[0]?.record.at ?? Number.POSITIVE_INFINITY;
      if (turnAt <= requestAt) this.turns.shift();
      else this.requests.shift();
      left--;
    }
    const dropped = count - left;
    this.droppedTotal += dropped;
    if (this.droppedThisOutage === 0)
      this.options.log?.error(
        { maxQueuedRecords: this.maxQueued },
        "PostgreSQL is unreachable and the record queue is full (gateway.state.maxQueuedRecords): the oldest turns and usage rows are dropped until it is back",
      );
    this.droppedThisOutage += dropped;
  }

  private flushSoon(delayMs: number): void {
    if (this.flushing) return;
    if (delayMs === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
      void this.flush();
    } else this.timer ??= setTimeout(() => void this.flush(), delayMs);
  }

  /** Write one batch now (a no-op while one is being written); resolves when it is done. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.flushing ??= this.writeBatch().finally(() => {
      this.flushing = undefined;
      if (this.turns.length + this.requests.length > 0 && !this.closed) {
        if (this.down) this.timer ??= setTimeout(() => void this.flush(), this.retryMs);
        else this.flushSoon(0);
      }
    });
    return this.flushing;
  }

  private async writeBatch(): Promise<void> {
    const turns = this.turns.splice(0, MAX_BATCH);
    const requests = this.requests.splice(0, MAX_BATCH);
    if (turns.length + requests.length === 0) return;
    this.inFlight = turns.length + requests.length;
    try {
      await inTransaction(this.pool, async (client) => {
        await insertTurns(client, turns);
        await insertRequests(client, requests);
      });
      this.inFlight = 0;
      if (this.down) {
        this.down = false;
        this.options.log?.info(
          { queued: this.pending, dropped: this.droppedThisOutage },
          "PostgreSQL is reachable again: writing the queued records",
        );
        this.droppedThisOutage = 0;
      }
      this.retryMs = RETRY_MIN_MS;
    } catch (error) {
      this.inFlight = 0;
      if (!isConnectionError(error)) {
        // A batch the database refuses would be refused forever: report it and move on.
        this.options.log?.error({ err: (error as Error).message, dropped: turns.length + requests.length }, "could not record turns");
        return;
      }
      this.turns = turns.concat(this.turns);
      this.requests = requests.concat(this.requests);
      const excess = this.pending - this.maxQueued;
      if (excess > 0) this.drop(excess);
      if (!this.down) {
        this.down = true;
        this.options.log?.warn(
          { err: (error as Error).message, queued: this.pending, maxQueuedRecords: this.maxQueued },
          "PostgreSQL is unreachable: turns and usage rows wait in memory and are written when it is back",
        );
      } else this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    }
  }

  async saveResponse(stored: StoredResponse): Promise<void> {
    try {
      await this.pool.query(
        `INSERT INTO responses (id, agent_id, created_at, response, history, output) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (id) DO UPDATE SET agent_id = excluded.agent_id, created_at = excluded.created_at,
           response = excluded.response, history = excluded.history, output = excluded.output`,
        [
          stored.id,
          stored.agentId,
          stored.createdAt,
          JSON.stringify(stored.response),
          JSON.stringify(stored.history),
          JSON.stringify(stored.output),
        ],
      );
    } catch (error) {
      throw asStateError(error);
    }
  }

  async getResponse(id: string): Promise<StoredResponse | undefined> {
    try {
      const { rows } = await this.pool.query("SELECT * FROM responses WHERE id = $1", [id]);
      const row = rows[0];
      if (!row) return undefined;
      return {
        id: row.id,
        agentId: row.agent_id,
        createdAt: row.created_at,
        response: JSON.parse(row.response),
        history: JSON.parse(row.history),
        output: JSON.parse(row.output),
      };
    } catch (error) {
      throw asStateError(error);
    }
  }

  async deleteResponse(id: string): Promise<boolean> {
    try {
      return ((await this.pool.query("DELETE FROM responses WHERE id = $1", [id])).rowCount ?? 0) > 0;
    } catch (error) {
      throw asStateError(error);
    }
  }

  queryRequests(query: RequestQuery = {}): Promise<RequestRecord[]> {
    return queryRequests(this.pool, query).catch((error) => Promise.reject(asStateError(error)));
  }

  aggregateRequests(query: UsageQuery): Promise<UsageRow[]> {
    return aggregateRequests(this.pool, query).catch((error) => Promise.reject(asStateError(error)));
  }

  requestSeries(query: SeriesQuery): Promise<SeriesPoint[]> {
    // A query asking too much is the caller's error, not an unreachable database.
    const count = seriesBucketCount(query);
    return requestSeries(this.pool, query, count).catch((error) => Promise.reject(asStateError(error)));
  }

  async keySpend(keyId: string, since: number): Promise<number> {
    try {
      const { rows } =
        since <= 0
          ? await this.pool.query("SELECT cost FROM key_spend WHERE key_id = $1", [keyId])
          : await this.pool.query("SELECT coalesce(sum(cost), 0)::float8 AS cost FROM requests WHERE key_id = $1 AND at >= $2", [
              keyId,
              since,
            ]);
      return (rows[0] as { cost: number } | undefined)?.cost ?? 0;
    } catch (error) {
      throw asStateError(error);
    }
  }

  listSessions(options: SessionListQuery = {}): Promise<SessionSummary[]> {
    return listSessions(this.pool, options);
  }

  getSession(key: string): Promise<{ session: SessionSummary; turns: TurnRecord[] } | undefined> {
    return getSession(this.pool, key);
  }

  /** Write what is queued (trying for `closeTimeoutMs` while the database is down), then release. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const deadline = Date.now() + (this.options.closeTimeoutMs ?? 5_000);
    while (this.pending > 0 && Date.now() < deadline) {
      await this.flush();
      if (this.down && this.pending > 0) await new Promise((resolve) => setTimeout(resolve, RETRY_MIN_MS));
    }
    clearTimeout(this.timer);
    if (this.pending > 0)
      this.options.log?.error({ lost: this.pending }, "PostgreSQL stayed unreachable until shutdown: queued records were not written");
    await this.options.release?.();
  }
}
