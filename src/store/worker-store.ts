import { existsSync } from "node:fs";
import path from "node:path";
import type { Worker } from "node:worker_threads";
import { DEFAULT_FLUSH_DELAY_MS, DEFAULT_MAX_BATCH_TURNS, MAX_QUEUED } from "./batch-limits.js";
import type { StoredResponse } from "./response-store.js";
import { RETENTION_INTERVAL_MS, type RetentionSettings } from "./retention.js";
import type { SessionListQuery, SessionReader, SessionTranscript } from "./session-reader.js";
import type { SessionSummary, TurnRecord } from "./session-store.js";
import type { RecordBatch } from "./sqlite-batch-writer.js";
import type { StateStore } from "./state-store.js";
import type { RequestQuery, RequestRecord, SeriesPoint, SeriesQuery, UsageQuery, UsageRow } from "./usage-ledger.js";
import {
  type FromWriter,
  fromWireError,
  type StoreCallName,
  type StoreCalls,
  type ToWriter,
  type WriterSettings,
} from "./worker-protocol.js";
import { assertDatabaseUsable, startWriter } from "./writer-thread.js";

export interface WorkerStoreOptions {
  /** Longest a record waits on the main thread before it is handed to the writer. */
  flushDelayMs?: number;
  /** Most records per batch: reaching it hands the batch over at once. */
  maxBatchRecords?: number;
  /** Most records queued or in the writer's hands; past it the oldest queued ones are dropped. */
  maxQueued?: number;
  retention?: RetentionSettings | undefined;
  retentionIntervalMs?: number;
  /** How long `close()` waits for the writer to finish before it is stopped. */
  closeTimeoutMs?: number;
  /** How long the writer thread stays up with nothing to do before it closes the database and stops. */
  writerIdleMs?: number;
}

/**
 * A writer thread is a whole V8 isolate (~14 MB resident): it runs while there is work and stops
 * after this long without any. Starting one again costs ~50 ms of CPU off the event loop; only a
 * stored-response call made while it starts waits for it.
 */
export const DEFAULT_WRITER_IDLE_MS = 30_000;

/** Records handed to the writer and not yet written: past this, batches wait on the main thread (where drops are counted). */
export const MAX_IN_FLIGHT = 1024;
const DROP_REPORT_MS = 1000;

/**
 * The gateway's store: records are queued here and handed to the writer thread (`store-worker.ts`)
 * in batches (≤ `flushDelayMs`, ≤ `maxBatchRecords`); nothing on the request path touches SQLite.
 * The writer starts on the first record or call and stops after `writerIdleMs` without work, so a
 * gateway at rest carries neither its isolate nor SQLite.
 * A full queue drops the oldest records (counted, reported through `onDropped`) rather than block
 * or grow. Stored responses go to the writer and resolve once it has committed them.
 */
export class WorkerStore implements StateStore, SessionReader {
  private queue: RecordBatch = { turns: [], requests: [] };
  private queued = 0;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly calls = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  private nextCall = 1;
  private idleWaiters: Array<() => void> = [];
  private dropped = 0;
  private dropTimer: NodeJS.Timeout | undefined;
  private dead: Error | undefined;
  private referenced = false;
  private closing: Promise<void> | undefined;
  /** The running writer, if any; `opened` settles when it has opened the database. */
  private writer: Worker | undefined;
  private opened: { promise: Promise<void>; resolve: () => void; reject: (error: Error) => void } | undefined;
  /** Writers told to stop when idle, until they have exited. */
  private readonly retiring = new Set<Promise<void>>();
  private idleTimer: NodeJS.Timeout | undefined;
  private writerOpening = false;
  private maintenanceTimer: NodeJS.Timeout | undefined;
  private readonly flushDelayMs: number;
  private readonly maxBatch: number;
  private readonly maxQueued: number;

  /** Told when a batch could not be written (the gateway logs it; requests go on). */
  onWriteError: (error: Error, dropped: number) => void = () => undefined;
  /** Told (at most once a second, and at close) how many records a full queue dropped. */
  onDropped: (count: number) => void = () => undefined;
  onMaintenanceError: (error: Error) => void = () => undefined;
  /** All records dropped since the start (full queue). */
  droppedTotal = 0;

  private constructor(
    private readonly settings: WriterSettings,
    private readonly options: WorkerStoreOptions,
  ) {
    this.flushDelayMs = options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS;
    this.maxBatch = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_TURNS;
    this.maxQueued = options.maxQueued ?? MAX_QUEUED;
  }

  /**
   * The store for `<stateDir>/openclaw.db`, its writer not started yet. Throws at once when an
   * existing database could not be opened later (not a database, no write access).
   */
  static create(stateDir: string, options: WorkerStoreOptions = {}): WorkerStore {
    const file = path.join(stateDir, "openclaw.db");
    assertDatabaseUsable(file);
    return new WorkerStore({ file, retention: options.retention, retentionIntervalMs: options.retentionIntervalMs }, options);
  }

  /** Start the writer on `<stateDir>/openclaw.db`; resolves once the database is open. */
  static async open(stateDir: string, options: WorkerStoreOptions = {}): Promise<WorkerStore> {
    const store = WorkerStore.create(stateDir, options);
    store.startWriter();
    try {
      await store.opened?.promise;
    } catch (error) {
      await store.close();
      throw error;
    }
    return store;
  }

  /**
   * Retention runs in the writer: a pass when it starts, then every interval while it runs. This
   * starts one now when there is a database to keep bounded, and wakes a stopped writer every
   * interval, so that old records go even while no request comes.
   */
  startMaintenance(): void {
    if (existsSync(this.settings.file)) this.startWriter();
    this.maintenanceTimer ??= setInterval(() => {
      if (!this.writer && !this.dead && !this.closing) this.startWriter();
    }, this.settings.retentionIntervalMs ?? RETENTION_INTERVAL_MS);
    this.maintenanceTimer.unref();
  }

  /** Whether a writer thread is running (it stops when idle). */
  get writerRunning(): boolean {
    return this.writer !== undefined;
  }

  private startWriter(): Worker {
    if (this.writer) return this.writer;
    const worker = startWriter(this.settings);
    this.writer = worker;
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const promise = new Promise<void>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    promise.catch(() => undefined);
    this.opened = { promise, resolve, reject };
    this.referenced = true;
    this.writerOpening = true;
    worker.on("message", (message: FromWriter) => {
      if (worker === this.writer) this.receive(message);
      else if (message.type === "maintenanceError") this.onMaintenanceError(fromWireError(message.error));
    });
    worker.on("error", (error) => {
      if (worker === this.writer) this.fail(error);
    });
    worker.on("exit", () => {
      if (worker === this.writer) this.fail(new Error("the store's writer thread stopped"));
    });
    this.holdProcess();
    return worker;
  }

  /** Nothing in hand for `writerIdleMs`: the writer closes the database and exits; the next record or call starts another. */
  private retire(): void {
    const worker = this.writer;
    if (!worker || this.inFlight > 0 || this.calls.size > 0) return;
    this.writer = undefined;
    this.opened = undefined;
    const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
    this.retiring.add(exited);
    void exited.then(() => this.retiring.delete(exited));
    worker.postMessage({ type: "close" } satisfies ToWriter);
  }

  recordTurn(turn: TurnRecord): void {
    this.queue.turns.push(turn);
    this.added();
  }

  recordRequest(record: RequestRecord): void {
    this.queue.requests.push(record);
    this.added();
  }

  private added(): void {
    this.queued++;
    if (this.queued + this.inFlight > this.maxQueued) this.dropOldest(this.queued + this.inFlight - this.maxQueued);
    if (this.queued >= this.maxBatch) this.handOver();
    else this.timer ??= setTimeout(() => this.handOver(), this.flushDelayMs);
  }

  /** The writer has fallen behind (a slow or locked disk): the oldest waiting records go, counted. */
  private dropOldest(count: number): void {
    const turns = this.queue.turns.splice(0, Math.min(count, this.queue.turns.length)).length;
    const requests = this.queue.requests.splice(0, count - turns).length;
    this.queued -= turns + requests;
    this.dropped += turns + requests;
    this.droppedTotal += turns + requests;
    this.dropTimer ??= setTimeout(() => this.reportDrops(), DROP_REPORT_MS);
  }

  private reportDrops(): void {
    if (this.dropTimer) clearTimeout(this.dropTimer);
    this.dropTimer = undefined;
    if (this.dropped === 0) return;
    const count = this.dropped;
    this.dropped = 0;
    this.onDropped(count);
  }

  /** Hand what is queued to the writer, unless it already holds `MAX_IN_FLIGHT` (its answer hands the rest). */
  private handOver(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.queued === 0 || this.inFlight >= MAX_IN_FLIGHT || this.dead) return;
    const batch = this.queue;
    this.queue = { turns: [], requests: [] };
    this.inFlight += this.queued;
    this.queued = 0;
    this.send({ type: "records", batch });
    this.holdProcess();
  }

  /** The writer holds the process open while it opens the database, then only while it has work (records or calls) in hand. */
  private holdProcess(): void {
    const busy = this.inFlight > 0 || this.calls.size > 0 || this.writerOpening;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    if (!busy && this.writer && !this.closing) {
      this.idleTimer = setTimeout(() => this.retire(), this.options.writerIdleMs ?? DEFAULT_WRITER_IDLE_MS);
      this.idleTimer.unref();
    }
    if (busy === this.referenced) return;
    this.referenced = busy;
    if (busy) this.writer?.ref();
    else this.writer?.unref();
  }

  /** Resolves once every record handed to the writer is written (or reported); queued ones may remain. */
  writerIdle(): Promise<void> {
    if (this.inFlight === 0 || this.dead) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  saveResponse(response: StoredResponse): Promise<void> {
    return this.call("saveResponse", response);
  }

  getResponse(id: string): Promise<StoredResponse | undefined> {
    return this.call("getResponse", id);
  }

  deleteResponse(id: string): Promise<boolean> {
    return this.call("deleteResponse", id);
  }

  queryRequests(query: RequestQuery = {}): Promise<RequestRecord[]> {
    // Whatever was recorded before the query is part of its answer.
    this.handOver();
    return this.call("queryRequests", query);
  }

  aggregateRequests(query: UsageQuery): Promise<UsageRow[]> {
    this.handOver();
    return this.call("aggregateRequests", query);
  }

  keySpend(keyId: string, since: number): Promise<number> {
    this.handOver();
    return this.call("keySpend", { keyId, since });
  }

  requestSeries(query: SeriesQuery): Promise<SeriesPoint[]> {
    this.handOver();
    return this.call("requestSeries", query);
  }

  listSessions(query: SessionListQuery): Promise<SessionSummary[]> {
    this.handOver();
    return this.call("listSessions", query);
  }

  getSession(key: string): Promise<SessionTranscript | undefined> {
    this.handOver();
    return this.call("getSession", key);
  }

  private call<Name extends StoreCallName>(name: Name, args: StoreCalls[Name]["args"]): Promise<StoreCalls[Name]["result"]> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.send({ type: "call", id, name, args } as ToWriter);
      this.holdProcess();
    });
  }

  private send(message: ToWriter): void {
    this.startWriter().postMessage(message);
  }

  private receive(message: FromWriter): void {
    switch (message.type) {
      case "ready":
        this.writerOpening = false;
        this.opened?.resolve();
        this.holdProcess();
        return;
      case "failed": {
        const error = fromWireError(message.error);
        this.opened?.reject(error);
        this.fail(error);
        return;
      }
      case "written":
        this.inFlight -= message.count;
        if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
        // What waited while the writer held its maximum goes now, or within the delay.
        if (this.queued >= this.maxBatch) this.handOver();
        else if (this.queued > 0) this.timer ??= setTimeout(() => this.handOver(), this.flushDelayMs);
        this.holdProcess();
        return;
      case "reply": {
        const pending = this.calls.get(message.id);
        this.calls.delete(message.id);
        if (message.error) pending?.reject(fromWireError(message.error));
        else pending?.resolve(message.result);
        this.holdProcess();
        return;
      }
      case "writeError":
        this.onWriteError(fromWireError(message.error), message.dropped);
        return;
      case "maintenanceError":
        this.onMaintenanceError(fromWireError(message.error));
        return;
      default:
        return;
    }
  }

  private fail(error: Error): void {
    if (this.dead) return;
    this.dead = error;
    this.opened?.reject(error);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.maintenanceTimer) clearInterval(this.maintenanceTimer);
    for (const { reject } of this.calls.values()) reject(error);
    this.calls.clear();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
    if (!this.closing) this.onWriteError(error, this.queued + this.inFlight);
  }

  /** Hand over everything queued, let the writer write it and close the database; stopped past `closeTimeoutMs`. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer) clearTimeout(this.timer);
      if (this.idleTimer) clearTimeout(this.idleTimer);
      if (this.maintenanceTimer) clearInterval(this.maintenanceTimer);
      this.reportDrops();
      const retiring = Promise.all(this.retiring);
      if (this.dead) return;
      // At close the in-flight bound no longer matters: everything goes, in order, before "close".
      if (this.queued > 0) {
        const batch = this.queue;
        this.queue = { turns: [], requests: [] };
        this.inFlight += this.queued;
        this.queued = 0;
        this.send({ type: "records", batch });
      }
      const worker = this.writer;
      if (worker) {
        const exited = new Promise<void>((resolve) => worker.once("exit", () => resolve()));
        worker.ref();
        worker.postMessage({ type: "close" } satisfies ToWriter);
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<"late">((resolve) => {
          timer = setTimeout(() => resolve("late"), this.options.closeTimeoutMs ?? 5000);
        });
        if ((await Promise.race([exited, late])) === "late") await worker.terminate();
        clearTimeout(timer);
      }
      await retiring;
    })();
    return this.closing;
  }
}
