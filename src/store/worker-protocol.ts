import type { StoredResponse } from "./response-store.js";
import type { RetentionSettings } from "./retention.js";
import type { SessionListQuery, SessionTranscript } from "./session-reader.js";
import type { SessionSummary } from "./session-store.js";
import type { RecordBatch } from "./sqlite-batch-writer.js";
import type { RequestQuery, RequestRecord, SeriesPoint, SeriesQuery, UsageQuery, UsageRow } from "./usage-ledger.js";

/** What the writer thread is started with (`workerData`). */
export interface WriterSettings {
  file: string;
  retention?: RetentionSettings | undefined;
  retentionIntervalMs?: number | undefined;
}

/** The calls the gateway waits on, with what each resolves to. */
export interface StoreCalls {
  saveResponse: { args: StoredResponse; result: undefined };
  getResponse: { args: string; result: StoredResponse | undefined };
  deleteResponse: { args: string; result: boolean };
  queryRequests: { args: RequestQuery; result: RequestRecord[] };
  aggregateRequests: { args: UsageQuery; result: UsageRow[] };
  keySpend: { args: { keyId: string; since: number }; result: number };
  requestSeries: { args: SeriesQuery; result: SeriesPoint[] };
  listSessions: { args: SessionListQuery; result: SessionSummary[] };
  getSession: { args: string; result: SessionTranscript | undefined };
}
export type StoreCallName = keyof StoreCalls;

/** An error crossing the thread boundary: its message, and SQLite's code (SQLITE_FULL…). */
export interface WireError {
  message: string;
  code?: string | undefined;
}

export type ToWriter =
  | { type: "records"; batch: RecordBatch }
  | { [Name in StoreCallName]: { type: "call"; id: number; name: Name; args: StoreCalls[Name]["args"] } }[StoreCallName]
  | { type: "close" };

export type FromWriter =
  | { type: "ready" }
  | { type: "failed"; error: WireError }
  /** `count` records handed over are done with (written, or reported in a `writeError`). */
  | { type: "written"; count: number }
  | { type: "reply"; id: number; result?: unknown; error?: WireError }
  | { type: "writeError"; error: WireError; dropped: number }
  | { type: "maintenanceError"; error: WireError }
  | { type: "closed" };

export function toWireError(error: unknown): WireError {
  const code = (error as { code?: unknown }).code;
  return { message: error instanceof Error ? error.message : String(error), code: typeof code === "string" ? code : undefined };
}

export function fromWireError(wire: WireError): Error {
  return Object.assign(new Error(wire.message), wire.code ? { code: wire.code } : {});
}
