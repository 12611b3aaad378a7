import path from "node:path";
import { Worker } from "node:worker_threads";
import type { StoredResponse } from "./response-store.js";
import type { RetentionSettings } from "./retention.js";
import type { TurnRecord } from "./session-store.js";
import type { RecordBatch } from "./sqlite-batch-writer.js";
import { DEFAULT_FLUSH_DELAY_MS, DEFAULT_MAX_BATCH_TURNS, MAX_QUEUED } from "./sqlite-store.js";
import type { StateStore } from "./state-store.js";
import type { RequestQuery, RequestRecord, UsageQuery, UsageRow } from "./usage-ledger.js";
import {
  type FromWriter,
  fromWireError,
  type StoreCallName,
  type StoreCalls,
  type ToWriter,
  type WriterSettings,
} from "./worker-protocol.js";

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
}

/** Records handed to the writer and not yet written: past this, batches wait on the main thread (where drops are counted). */
export const MAX_IN_FLIGHT = 1024;
const DROP_REPORT_MS = 1000;

/**
 * From dist/ the writer is the compiled JS beside this file. Run from the sources (tsx), a worker
 * does not inherit tsx's loader, so it registers it before importing the .ts writer.
 */
function startWriter(settings: WriterSettings): Worker {
  const here = import.meta.url;
  if (!here.endsWith(".ts")) return new Worker(new URL("./store-worker.js", here), { workerData: settings });
  const entry = JSON.stringify(new URL("./store-worker.ts", here).href);
  const tsx = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const code = `import(${tsx}).then(({ register }) => { register(); return import(${entry}); })`;
  return new Worker(code, { eval: true, workerData: settings });
}

/**
 * The gateway's store: records are queued here and handed to the writer thread (`store-worker.ts`)
 * in batches (≤ `flushDelayMs`, ≤ `maxBatchRecords`); nothing on the request path touches SQLite.
 * A full queue drops the oldest records (counted, reported through `onDropped`) rather than block
 * or grow. Stored responses go to the writer and resolve once it has committed them.
 */
export class WorkerStore implements StateStore {
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
    private readonly worker: Worker,
    private readonly options: WorkerStoreOptions,
  ) {
    this.flushDelayMs = options.flushDelayMs ?? DEFAULT_FLUSH_DELAY_MS;
    this.maxBatch = options.maxBatchRecords ?? DEFAULT_MAX_BATCH_TURNS;
    this.maxQueued = options.maxQueued ?? MAX_QUEUED;
    // The writer holds the process open only while it has work (records or calls) in hand.
    worker.unref();
    worker.on("message", (message: FromWriter) => this.receive(message));
    worker.on("error", (error) => this.fail(error));
    worker.on("exit", () => this.fail(new Error("the store's writer thread stopped")));
  }

  /** Start the writer on `<stateDir>/openclaw.db`; resolves once the database is open. */
  static open(stateDir: string, options: WorkerStoreOptions = {}): Promise<WorkerStore> {
    const settings: WriterSettings = {
      file: path.join(stateDir, "openclaw.db"),
      retention: options.retention,
      retentionIntervalMs: options.retentionIntervalMs,
    };
    const worker = startWriter(settings);
    return new Promise((resolve, reject) => {
      const early = (error: Error) => reject(error);
      worker.once("error", early);
      worker.once("message", (message: FromWriter) => {
        worker.off("error", early);
        if (message.type === "ready") resolve(new WorkerStore(worker, options));
        else if (message.type === "failed") reject(fromWireError(message.error));
        else reject(new Error(`the store's writer thread said ${message.type} before ready`));
      });
    });
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

  private holdProcess(): void {
    const busy = this.inFlight > 0 || this.calls.size > 0;
    if (busy === this.referenced) return;
    this.referenced = busy;
    if (busy) this.worker.ref();
    else this.worker.unref();
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
    this.worker.postMessage(message);
  }

  private receive(message: FromWriter): void {
    switch (message.type) {
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
    for (const { reject } of this.calls.values()) reject(error);
    this.calls.clear();
    for (const resolve of this.idleWaiters.splice(0)) resolve();
    if (!this.closing) this.onWriteError(error, this.queued + this.inFlight);
  }

  /** Hand over everything queued, let the writer write it and close the database; stopped past `closeTimeoutMs`. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.timer) clearTimeout(this.timer);
      this.reportDrops();
      if (this.dead) return;
      // At close the in-flight bound no longer matters: everything goes, in order, before "close".
      if (this.queued > 0) {
        const batch = this.queue;
        this.queue = { turns: [], requests: [] };
        this.inFlight += this.queued;
        this.queued = 0;
        this.send({ type: "records", batch });
      }
      const exited = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
      this.worker.ref();
      this.send({ type: "close" });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<"late">((resolve) => {
        timer = setTimeout(() => resolve("late"), this.options.closeTimeoutMs ?? 5000);
      });
      if ((await Promise.race([exited, late])) === "late") await this.worker.terminate();
      clearTimeout(timer);
    })();
    return this.closing;
  }
}
