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
  /** The virtual key that made the request; null (or absent) for the operator's gateway token. */
  keyId?: string | null | undefined;
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
  keyId?: string;
  limit?: number;
}

export type UsageGroup = "key" | "model" | "agent" | "provider" | "day";
export const USAGE_GROUPS: readonly UsageGroup[] = ["key", "model", "agent", "provider", "day"];

export interface UsageQuery {
  by: UsageGroup;
  /** Inclusive lower bound on `at`. */
  since?: number;
  /** Exclusive upper bound on `at`. */
  until?: number;
  /** Only this key's requests. */
  keyId?: string;
}

/** One group's totals. Token and cost sums count what was reported (null counts as 0). */
export interface UsageRow {
  /** The key id, model ref, agent id, provider id or UTC day (`2026-11-22`); null for "none" (the operator's token, a request that failed before a model was picked…). */
  group: string | null;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
  cost: number;
  /** Median latency (ms) of the group's requests. */
  p50LatencyMs: number | null;
}

export interface SeriesQuery {
  /** Inclusive start of the first bucket (ms since the epoch). */
  since: number;
  /** Exclusive end (ms since the epoch). */
  until: number;
  /** Width of each bucket; at most `MAX_SERIES_BUCKETS` buckets. */
  bucketMs: number;
}

/** One time bucket of the ledger, for charts. Token and cost sums count what was reported. */
export interface SeriesPoint {
  /** Start of the bucket (ms since the epoch). */
  start: number;
  requests: number;
  errors: number;
  promptTokens: number;
  completionTokens: number;
  cost: number;
  /** Nearest-rank latency percentiles (ms) of the bucket's requests; null for an empty bucket. */
  p50LatencyMs: number | null;
  p99LatencyMs: number | null;
}

/** The usage ledger: every request, as metadata. Recording is queued and never blocks a request. */
export interface UsageLedger {
  recordRequest(record: RequestRecord): void;
  /** Newest first. */
  queryRequests(query?: RequestQuery): Promise<RequestRecord[]>;
  /** Totals per group, computed where the ledger lives (in SQL), biggest cost first. */
  aggregateRequests(query: UsageQuery): Promise<UsageRow[]>;
  /** Every bucket of `[since, until)`, oldest first (empty ones as zeros), computed where the ledger lives. */
  requestSeries(query: SeriesQuery): Promise<SeriesPoint[]>;
  /**
   * USD a key spent in requests started at or after `since`. With `since` 0, its lifetime spend,
   * kept apart from the ledger rows so that retention never lowers a `total` budget's count.
   */
  keySpend(keyId: string, since: number): Promise<number>;
}
