import type Database from "better-sqlite3";
import type { UsageGroup, UsageQuery, UsageRow } from "./usage-ledger.js";

/** Fixed expressions per grouping (never text from the caller in the SQL). */
const GROUP_SQL: Record<UsageGroup, string> = {
  key: "key_id",
  model: "model",
  agent: "agent_id",
  provider: "provider",
  day: "strftime('%Y-%m-%d', at / 1000, 'unixepoch')",
};

interface AggregateRow {
  grp: string | null;
  requests: number;
  errors: number;
  prompt: number;
  completion: number;
  cached: number;
  cost: number;
  p50: number | null;
}

/**
 * Totals per group in one statement: sums over the `at` range (index `requests_at`, or
 * `requests_key_at` for one key), and the median latency from a window over the same rows.
 */
export function aggregateRequests(db: Database.Database, query: UsageQuery): UsageRow[] {
  const group = GROUP_SQL[query.by];
  if (!group) throw new Error(`unknown usage grouping ${String(query.by)}`);
  const order = query.by === "day" ? "t.grp ASC" : "t.cost DESC, t.requests DESC, t.grp ASC";
  const rows = db
    .prepare(
      `WITH filtered AS (
         SELECT ${group} AS grp, status, prompt_tokens, completion_tokens, cached_tokens, cost, latency_ms FROM requests
         WHERE at >= @since AND at < @until AND (@keyId IS NULL OR key_id = @keyId)),
       totals AS (
         SELECT grp, COUNT(*) AS requests, TOTAL(status = 'error') AS errors, TOTAL(prompt_tokens) AS prompt,
           TOTAL(completion_tokens) AS completion, TOTAL(cached_tokens) AS cached, TOTAL(cost) AS cost
         FROM filtered GROUP BY grp),
       ranked AS (
         SELECT grp, latency_ms, ROW_NUMBER() OVER (PARTITION BY grp ORDER BY latency_ms) AS rn, COUNT(*) OVER (PARTITION BY grp) AS n
         FROM filtered),
       medians AS (SELECT grp, AVG(latency_ms) AS p50 FROM ranked WHERE rn IN ((n + 1) / 2, (n + 2) / 2) GROUP BY grp)
       SELECT t.*, m.p50 FROM totals t LEFT JOIN medians m ON m.grp IS t.grp ORDER BY ${order}`,
    )
    .all({ since: query.since ?? 0, until: query.until ?? Number.MAX_SAFE_INTEGER, keyId: query.keyId ?? null }) as AggregateRow[];
  return rows.map((row) => ({
    group: row.grp,
    requests: row.requests,
    errors: row.errors,
    promptTokens: row.prompt,
    completionTokens: row.completion,
    cachedTokens: row.cached,
    cost: row.cost,
    p50LatencyMs: row.p50,
  }));
}
