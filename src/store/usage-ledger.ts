/**
 * One request's metadata: what was called, how it went, what it cost. Never message content,
 * so every request can be recorded whatever `gateway.sessions.content` says.
 */
export interface RequestRecord {
  /** `req_…`, or the client's own `x-request-id` when it is a sane one. */
  requestId: string;
  /** When it started (ms since the epoch). */
  at: number;
  agentId: string | null;
  /** `provider/model` actually used (after aliases and fallbacks); null when it failed before one was picked. */
  model: string | null;
  provider: string | null;
  endpoint: string;
  status: "ok" | "error" | "aborted";
  error?: string | undefined;
  promptTokens: number | null;
  completionTokens: number | null;
  /** `usage.prompt_tokens_details.cached_tokens`, when the upstream reports it. */
  cachedTokens: number | null;
  /** USD, from the catalog's prices; null when the model has none. */
  cost: number | null;
  latencyMs: number;
  sessionKey: string | null;
  stream: boolean;
}

export interface RequestQuery {
  /** Inclusive lower bound on `at`. */
  since?: number;
  /** Exclusive upper bound on `at`. */
  until?: number;
  agentId?: string;
  limit?: number;
}

/** The usage ledger: every request, as metadata. Recording is queued and never blocks a request. */
export interface UsageLedger {
  recordRequest(record: RequestRecord): void;
  /** Newest first. */
  queryRequests(query?: RequestQuery): Promise<RequestRecord[]>;
}
