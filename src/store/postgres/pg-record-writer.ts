import { randomUUID } from "node:crypto";
import type { PoolClient } from "pg";
import type { TurnRecord } from "../session-store.js";
import type { RequestRecord } from "../usage-ledger.js";

/** A turn as its row, with the unique id that makes writing it twice a no-op. */
export interface TurnRow {
  uid: string;
  record: TurnRecord;
}

export interface RequestRow {
  uid: string;
  record: RequestRecord;
}

export const turnRow = (record: TurnRecord, uid: string = randomUUID()): TurnRow => ({ uid, record });
export const requestRow = (record: RequestRecord, uid: string = randomUUID()): RequestRow => ({ uid, record });

const column = <Row, Value>(rows: Row[], pick: (row: Row) => Value) => rows.map(pick);

/**
 * One statement for a whole batch of turns (arrays unnested into rows); the sessions' totals are
 * summed from the rows that were actually inserted, so a retried batch counts nothing twice.
 */
export async function insertTurns(client: PoolClient, rows: TurnRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const turns = rows.map((row) => row.record);
  const result = await client.query(
    `WITH inserted AS (
       INSERT INTO turns (uid, session_key, agent_id, channel, at, endpoint, model, status, error, input, output, usage, cost, receipt, request_id)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::text[], $8::text[],
         $9::text[], $10::text[], $11::text[], $12::text[], $13::float8[], $14::text[], $15::text[])
       ON CONFLICT (uid) DO NOTHING
       RETURNING id, session_key, agent_id, channel, at, model, usage, cost),
     totals AS (
       SELECT session_key, min(agent_id) AS agent_id, (array_agg(channel ORDER BY at DESC, id DESC) FILTER (WHERE channel IS NOT NULL))[1] AS channel,
         min(at) AS created_at, max(at) AS updated_at, count(*) AS turns,
         coalesce(sum((usage::jsonb ->> 'prompt_tokens')::bigint), 0) AS prompt_tokens,
         coalesce(sum((usage::jsonb ->> 'completion_tokens')::bigint), 0) AS completion_tokens,
         coalesce(sum(cost), 0) AS cost, (array_agg(model ORDER BY at DESC, id DESC))[1] AS last_model
       FROM inserted GROUP BY session_key),
     upserted AS (
     INSERT INTO sessions (key, agent_id, channel, created_at, updated_at, turns, prompt_tokens, completion_tokens, cost, last_model)
     SELECT * FROM totals
     ON CONFLICT (key) DO UPDATE SET
       updated_at = greatest(sessions.updated_at, excluded.updated_at),
       created_at = least(sessions.created_at, excluded.created_at),
       turns = sessions.turns + excluded.turns,
       channel = coalesce(excluded.channel, sessions.channel),
       prompt_tokens = sessions.prompt_tokens + excluded.prompt_tokens,
       completion_tokens = sessions.completion_tokens + excluded.completion_tokens,
       cost = sessions.cost + excluded.cost,
       last_model = CASE WHEN excluded.updated_at >= sessions.updated_at THEN excluded.last_model ELSE sessions.last_model END)
     SELECT count(*)::int AS inserted FROM inserted`,
    [
      column(rows, (row) => row.uid),
      column(turns, (turn) => turn.sessionKey),
      column(turns, (turn) => turn.agentId),
      column(turns, (turn) => turn.channel ?? null),
      column(turns, (turn) => turn.at),
      column(turns, (turn) => turn.endpoint),
      column(turns, (turn) => turn.model),
      column(turns, (turn) => turn.status),
      column(turns, (turn) => turn.error ?? null),
      column(turns, (turn) => JSON.stringify(turn.input)),
      column(turns, (turn) => (turn.output === null ? null : JSON.stringify(turn.output))),
      column(turns, (turn) => (turn.usage === null ? null : JSON.stringify(turn.usage))),
      column(turns, (turn) => turn.cost),
      column(turns, (turn) => (turn.receipt ? JSON.stringify(turn.receipt) : null)),
      column(turns, (turn) => turn.requestId ?? null),
    ],
  );
  return (result.rows[0] as { inserted: number } | undefined)?.inserted ?? 0;
}

/** One statement for a batch of ledger rows; key spend adds only what was inserted. */
export async function insertRequests(client: PoolClient, rows: RequestRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const requests = rows.map((row) => row.record);
  const result = await client.query(
    `WITH inserted AS (
       INSERT INTO requests (uid, at, request_id, agent_id, key_id, model, provider, endpoint, status, error,
         prompt_tokens, completion_tokens, cached_tokens, cost, latency_ms, session_key, stream)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
         $9::text[], $10::text[], $11::bigint[], $12::bigint[], $13::bigint[], $14::float8[], $15::float8[], $16::text[], $17::bool[])
       ON CONFLICT (uid) DO NOTHING
       RETURNING key_id, cost),
     spend AS (SELECT key_id, coalesce(sum(cost), 0) AS cost, count(*) AS requests FROM inserted WHERE key_id IS NOT NULL GROUP BY key_id),
     added AS (
       INSERT INTO key_spend (key_id, cost, requests) SELECT * FROM spend
       ON CONFLICT (key_id) DO UPDATE SET cost = key_spend.cost + excluded.cost, requests = key_spend.requests + excluded.requests)
     SELECT count(*)::int AS inserted FROM inserted`,
    [
      column(rows, (row) => row.uid),
      column(requests, (r) => r.at),
      column(requests, (r) => r.requestId),
      column(requests, (r) => r.agentId),
      column(requests, (r) => r.keyId ?? null),
      column(requests, (r) => r.model),
      column(requests, (r) => r.provider),
      column(requests, (r) => r.endpoint),
      column(requests, (r) => r.status),
      column(requests, (r) => r.error ?? null),
      column(requests, (r) => r.promptTokens),
      column(requests, (r) => r.completionTokens),
      column(requests, (r) => r.cachedTokens),
      column(requests, (r) => r.cost),
      column(requests, (r) => r.latencyMs),
      column(requests, (r) => r.sessionKey),
      column(requests, (r) => r.stream),
    ],
  );
  return (result.rows[0] as { inserted: number } | undefined)?.inserted ?? 0;
}
