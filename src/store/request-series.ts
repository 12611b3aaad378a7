import type Database from "better-sqlite3";
import type { SeriesPoint, SeriesQuery } from "./usage-ledger.js";

/** Most buckets one series may have: a chart is a few hundred points wide. */
export const MAX_SERIES_BUCKETS = 1000;

/** One non-empty bucket as the database returns it (`bucket` is its index from `since`). */
export interface SeriesRow {
  bucket: number;
  requests: number;
  errors: number;
  prompt: number;
  completion: number;
  cost: number;
  p50: number | null;
  p99: number | null;
}

/** How many buckets `[since, until)` cuts into; refuses a query that would make too many. */
export function seriesBucketCount(query: SeriesQuery): number {
  if (!(query.bucketMs > 0) || !(query.until > query.since)) throw new Error("a series needs until > since and bucketMs > 0");
  const count = Math.ceil((query.until - query.since) / query.bucketMs);
  if (count > MAX_SERIES_BUCKETS) throw new Error(`a series has at most ${MAX_SERIES_BUCKETS} buckets (asked for ${count})`);
  return count;
}

/**
 * Per-bucket totals and latency percentiles in one statement over the `at` range (index
 * `requests_at`). Percentiles are nearest-rank over the bucket's rows (a window per bucket),
 * so nothing but the per-bucket rows leaves SQLite.
 */
export function requestSeries(db: Database.Database, query: SeriesQuery): SeriesPoint[] {
  const count = seriesBucketCount(query);
  const rows = db
    .prepare(
      `WITH filtered AS (
         SELECT CAST((at - @since) / @bucketMs AS INTEGER) AS bucket, status, prompt_tokens, completion_tokens, cost, latency_ms FROM requests
         WHERE at >= @since AND at < @until),
       totals AS (
         SELECT bucket, COUNT(*) AS requests, TOTAL(status = 'error') AS errors, TOTAL(prompt_tokens) AS prompt,
           TOTAL(completion_tokens) AS completion, TOTAL(cost) AS cost
         FROM filtered GROUP BY bucket),
       ranked AS (
         SELECT bucket, latency_ms, ROW_NUMBER() OVER (PARTITION BY bucket ORDER BY latency_ms) AS rn,
           COUNT(*) OVER (PARTITION BY bucket) AS n
         FROM filtered),
       percentiles AS (
         SELECT bucket,
           MIN(CASE WHEN rn >= (n * 50 + 99) / 100 THEN latency_ms END) AS p50,
           MIN(CASE WHEN rn >= (n * 99 + 99) / 100 THEN latency_ms END) AS p99
         FROM ranked GROUP BY bucket)
       SELECT t.*, p.p50, p.p99 FROM totals t JOIN percentiles p ON p.bucket = t.bucket ORDER BY t.bucket`,
    )
    .all({ since: Math.floor(query.since), until: Math.floor(query.until), bucketMs: Math.floor(query.bucketMs) }) as SeriesRow[];
  return seriesPoints(rows, query, count);
}

/** Empty buckets are filled with zeros, so the chart's x axis is regular. */
export function seriesPoints(rows: SeriesRow[], query: SeriesQuery, count: number): SeriesPoint[] {
  const byBucket = new Map(rows.map((row) => [row.bucket, row]));
  const points: SeriesPoint[] = [];
  for (let index = 0; index < count; index++) {
    const row = byBucket.get(index);
    points.push({
      start: query.since + index * query.bucketMs,
      requests: row?.requests ?? 0,
      errors: row?.errors ?? 0,
      promptTokens: row?.prompt ?? 0,
      completionTokens: row?.completion ?? 0,
      cost: row?.cost ?? 0,
      p50LatencyMs: row?.p50 ?? null,
      p99LatencyMs: row?.p99 ?? null,
    });
  }
  return points;
}
