import type Database from "better-sqlite3";
import type { TurnRecord } from "./session-store.js";
import type { RequestRecord } from "./usage-ledger.js";

/** What one transaction writes: turns (with their sessions' totals) and ledger rows. */
export interface RecordBatch {
  turns: TurnRecord[];
  requests: RequestRecord[];
}

interface SessionTotals {
  key: string;
  agentId: string;
  channel: string | null;
  createdAt: number;
  updatedAt: number;
  turns: number;
  prompt: number;
  completion: number;
  cost: number;
  model: string;
}

/** One session upsert per distinct session in the batch: totals add up, the rest is the latest turn's. */
function sessionTotals(turns: TurnRecord[]): Iterable<SessionTotals> {
  const sessions = new Map<string, SessionTotals>();
  for (const turn of turns) {
    const session = sessions.get(turn.sessionKey);
    if (session) {
      session.updatedAt = turn.at;
      session.turns++;
      session.prompt += turn.usage?.prompt_tokens ?? 0;
      session.completion += turn.usage?.completion_tokens ?? 0;
      session.cost += turn.cost ?? 0;
      session.model = turn.model;
      session.channel = turn.channel ?? session.channel;
    } else {
      sessions.set(turn.sessionKey, {
        key: turn.sessionKey,
        agentId: turn.agentId,
        channel: turn.channel ?? null,
        createdAt: turn.at,
        updatedAt: turn.at,
        turns: 1,
        prompt: turn.usage?.prompt_tokens ?? 0,
        completion: turn.usage?.completion_tokens ?? 0,
        cost: turn.cost ?? 0,
        model: turn.model,
      });
    }
  }
  return sessions.values();
}

/** A function writing one batch in one transaction (it throws what SQLite throws). */
export function createBatchWriter(db: Database.Database): (batch: RecordBatch) => void {
  const upsertSession = db.prepare(`
    INSERT INTO sessions (key, agent_id, channel, created_at, updated_at, turns, prompt_tokens, completion_tokens, cost, last_model)
    VALUES (@key, @agentId, @channel, @createdAt, @updatedAt, @turns, @prompt, @completion, @cost, @model)
    ON CONFLICT (key) DO UPDATE SET
      updated_at = excluded.updated_at, turns = turns + excluded.turns,
      channel = COALESCE(excluded.channel, channel),
      prompt_tokens = prompt_tokens + excluded.prompt_tokens,
      completion_tokens = completion_tokens + excluded.completion_tokens,
      cost = cost + excluded.cost, last_model = excluded.last_model`);
  const insertTurn = db.prepare(`
    INSERT INTO turns (session_key, at, endpoint, model, status, error, input, output, usage, cost, receipt, request_id)
    VALUES (@sessionKey, @at, @endpoint, @model, @status, @error, @input, @output, @usage, @cost, @receipt, @requestId)`);
  const insertRequest = db.prepare(`
    INSERT INTO requests (at, request_id, agent_id, key_id, model, provider, endpoint, status, error,
      prompt_tokens, completion_tokens, cached_tokens, cost, latency_ms, session_key, stream)
    VALUES (@at, @requestId, @agentId, @keyId, @model, @provider, @endpoint, @status, @error,
      @promptTokens, @completionTokens, @cachedTokens, @cost, @latencyMs, @sessionKey, @stream)`);
  const addKeySpend = db.prepare(`
    INSERT INTO key_spend (key_id, cost, requests) VALUES (?, ?, 1)
    ON CONFLICT (key_id) DO UPDATE SET cost = cost + excluded.cost, requests = requests + 1`);
  return db.transaction(({ turns, requests }: RecordBatch) => {
    for (const session of sessionTotals(turns)) upsertSession.run(session);
    for (const turn of turns) {
      insertTurn.run({
        sessionKey: turn.sessionKey,
        at: turn.at,
        endpoint: turn.endpoint,
        model: turn.model,
        status: turn.status,
        error: turn.error ?? null,
        input: JSON.stringify(turn.input),
        output: turn.output === null ? null : JSON.stringify(turn.output),
        usage: turn.usage === null ? null : JSON.stringify(turn.usage),
        cost: turn.cost,
        receipt: turn.receipt ? JSON.stringify(turn.receipt) : null,
        requestId: turn.requestId ?? null,
      });
    }
    for (const request of requests) {
      insertRequest.run({ ...request, keyId: request.keyId ?? null, error: request.error ?? null, stream: request.stream ? 1 : 0 });
      if (request.keyId) addKeySpend.run(request.keyId, request.cost ?? 0);
    }
  });
}
