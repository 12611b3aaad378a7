import type { Pool } from "pg";
import { type SeriesRow, seriesPoints } from "../request-series.js";
import type { SeriesPoint, SeriesQuery } from "../usage-ledger.js";

/**
 * The dashboard's time series, as the SQLite ledger computes it (request-series.ts): per bucket
 * totals and nearest-rank latency percentiles (`percentile_disc` is nearest-rank), one statement
 * over the `requests_at` index.
 */
/** `count` is `seriesBucketCount(query)`, checked by the caller before anything is sent. */
export async function requestSeries(pool: Pool, query: SeriesQuery, count: number): Promise<SeriesPoint[]> {
  const { rows } = await pool.query(
    `SELECT ((at - $1) / $3)::int AS bucket, count(*)::int AS requests, count(*) FILTER (WHERE status = 'error')::int AS errors,
       coalesce(sum(prompt_tokens), 0)::float8 AS prompt, coalesce(sum(completion_tokens), 0)::float8 AS completion,
       coalesce(sum(cost), 0)::float8 AS cost,
       percentile_disc(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50,
       percentile_disc(0.99) WITHIN GROUP (ORDER BY latency_ms) AS p99
     FROM requests WHERE at >= $1 AND at < $2 GROUP BY bucket ORDER BY bucket`,
    [Math.floor(query.since), Math.floor(query.until), Math.floor(query.bucketMs)],
  );
  return seriesPoints(rows as SeriesRow[], query, count);
}
