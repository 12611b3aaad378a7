import type { AttestationReceipt, ChatMessage, Usage } from "../shared/wire.js";

/** One exchange: what came in, what went out, on which model, at what cost. */
export interface TurnRecord {
  sessionKey: string;
  agentId: string;
  channel?: string | undefined;
  /** `provider/model` actually used (after aliases and fallbacks). */
  model: string;
  endpoint: string;
  /** The request that made this turn (its x-request-id): leads from a transcript to the log line and the ledger row. */
  requestId?: string | undefined;
  /** The messages new in this turn (after the last assistant message of the request). */
  input: ChatMessage[];
  output: ChatMessage | null;
  usage: Usage | null;
  /** USD, from the catalog's prices; null when the model has none. */
  cost: number | null;
  status: "ok" | "error" | "aborted";
  error?: string | undefined;
  at: number;
  /** The attested enclave that computed the answer (end-to-end encrypted requests only). */
  receipt?: AttestationReceipt | undefined;
}

export interface SessionSummary {
  key: string;
  agentId: string;
  channel: string | null;
  createdAt: number;
  updatedAt: number;
  turns: number;
  promptTokens: number;
  completionTokens: number;
  cost: number;
  lastModel: string | null;
}

/**
 * Where transcripts go. The gateway only writes them (queued, never blocking a request); the CLI
 * reads them from the database (`SqliteStore`). A shared store (Postgres, Redis) can replace the
 * writer without touching the gateway.
 */
export interface SessionStore {
  /** Queue a turn; writes are batched off the request path. */
  recordTurn(turn: TurnRecord): void;
}
