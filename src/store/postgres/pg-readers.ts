import type { Pool } from "pg";
import type { SessionListQuery } from "../session-reader.js";
import type { SessionSummary, TurnRecord } from "../session-store.js";
import type { RequestQuery, RequestRecord, UsageGroup, UsageQuery, UsageRow } from "../usage-ledger.js";

// biome-ignore lint/suspicious/noExplicitAny: rows as PostgreSQL returns them, mapped field by field below
type Row = Record<string, any>;

const toSummary = (row: Row): SessionSummary => ({
  key: row.key,
  agentId: row.agent_id,
  channel: row.channel,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
  turns: row.turns,
  promptTokens: row.prompt_tokens,
  completionTokens: row.completion_tokens,
  cost: row.cost,
  lastModel: row.last_model,
});

/** Newest first; `text` matches the key, agent or last model (case-insensitive, wildcards taken literally). */
export async function listSessions(pool: Pool, options: SessionListQuery): Promise<SessionSummary[]> {
  const pattern = options.text ? `%${options.text.replace(/[\\%_]/g, (match) => `\\${match}`)}%` : null;
  const { rows } = await pool.query(
    `SELECT * FROM sessions WHERE ($1::text IS NULL OR agent_id = $1)
       AND ($3::text IS NULL OR key ILIKE $3 OR agent_id ILIKE $3 OR last_model ILIKE $3)
     ORDER BY updated_at DESC, key LIMIT $2`,
    [options.agentId ?? null, options.limit ?? 50, pattern],
  );
  return rows.map(toSummary);
}

export async function getSession(pool: Pool, key: string): Promise<{ session: SessionSummary; turns: TurnRecord[] } | undefined> {
  const { rows } = await pool.query("SELECT * FROM sessions WHERE key = $1", [key]);
  const session = rows[0];
  if (!session) return undefined;
  const turns = (await pool.query("SELECT * FROM turns WHERE session_key = $1 ORDER BY at, id", [key])).rows.map(
    (turn: Row): TurnRecord => ({
      sessionKey: turn.session_key,
      agentId: turn.agent_id,
      channel: turn.channel ?? undefined,
      model: turn.model,
      endpoint: turn.endpoint,
      input: JSON.parse(turn.input),
      output: turn.output === null ? null : JSON.parse(turn.output),
      usage: turn.usage === null ? null : JSON.parse(turn.usage),
      cost: turn.cost,
      status: turn.status,
      error: turn.error ?? undefined,
      at: turn.at,
      ...(turn.receipt ? { receipt: JSON.parse(turn.receipt) } : {}),
      ...(turn.request_id ? { requestId: turn.request_id } : {}),
    }),
  );
  return { session: toSummary(session), turns };
}

export async function queryRequests(pool: Pool, query: RequestQuery): Promise<RequestRecord[]> {
  const { rows } = await pool.query(
    `SELECT * FROM requests WHERE at >= $1 AND at < $2 AND ($3::text IS NULL OR agent_id = $3) AND ($4::text IS NULL OR key_id = $4)
     ORDER BY at DESC, id DESC LIMIT $5`,
    [query.since ?? 0, query.until ?? Number.MAX_SAFE_INTEGER, query.agentId ?? null, query.keyId ?? null, query.limit ?? 1000],
  );
  return rows.map(
    (row: Row): RequestRecord => ({
      requestId: row.request_id,
      at: row.at,
      agentId: row.agent_id,
      keyId: row.key_id,
      model: row.model,
      provider: row.provider,
      endpoint: row.endpoint,
      status: row.status,
      ...(row.error === null ? {} : { error: row.error }),
      promptTokens: row.prompt_tokens,
      completionTokens: row.completion_tokens,
      cachedTokens: row.cached_tokens,
      cost: row.cost,
      latencyMs: row.latency_ms,
      sessionKey: row.session_key,
      stream: row.stream,
    }),
  );
}

/** Fixed expressions per grouping (never text from the caller in the SQL). */
const GROUP_SQL: Record<UsageGroup, string> = {
  key: "key_id",
  model: "model",
  agent: "agent_id",
  provider: "provider",
  day: "to_char(to_timestamp(at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
};

/** The same totals as the SQLite ledger (usage-aggregate.ts), summed by PostgreSQL; the median is `percentile_cont(0.5)`. */
export async function aggregateRequests(pool: Pool, query: UsageQuery): Promise<UsageRow[]> {
  const group = GROUP_SQL[query.by];
  if (!group) throw new Error(`unknown usage grouping ${String(query.by)}`);
  const order = query.by === "day" ? "grp ASC" : "cost DESC, requests DESC, grp ASC";
  const { rows } = await pool.query(
    `SELECT ${group} AS grp, count(*)::int AS requests, count(*) FILTER (WHERE status = 'error')::int AS errors,
       coalesce(sum(prompt_tokens), 0)::float8 AS prompt, coalesce(sum(completion_tokens), 0)::float8 AS completion,
       coalesce(sum(cached_tokens), 0)::float8 AS cached, coalesce(sum(cost), 0)::float8 AS cost,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50
     FROM requests WHERE at >= $1 AND at < $2 AND ($3::text IS NULL OR key_id = $3)
     GROUP BY grp ORDER BY ${order}`,
    [query.since ?? 0, query.until ?? Number.MAX_SAFE_INTEGER, query.keyId ?? null],
  );
  return rows.map((row: Row) => ({
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
