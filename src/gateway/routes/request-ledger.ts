import type { IncomingMessage } from "node:http";
import type { ContentSetting } from "../../agents/session.js";
import type { ModelRef } from "../../models/model-ref.js";
import { isOpenClawError } from "../../shared/errors.js";
import type { RequestRecord } from "../../store/usage-ledger.js";
import type { GatewayContext, RequestLog } from "../context.js";
import { ClientAbortError } from "../http.js";
import type { KeyGrant } from "../key-guard.js";
import { RequestObservation } from "../observability/request-observation.js";
import type { RequestTiming } from "../observability/request-timing.js";

export { requestIdOf } from "../logging/request-id.js";

type ObservedRequest = Pick<IncomingMessage, "headers"> & { timing?: RequestTiming };
const NO_REQUEST: ObservedRequest = { headers: {} };

export function contentSetting(ctx: GatewayContext): ContentSetting {
  return ctx.runtime.config.gateway?.sessions?.content ?? "keyed";
}

/** Chat usage, or embeddings' (which has no completion tokens). */
type UsageLike = { prompt_tokens?: number; completion_tokens?: number; prompt_tokens_details?: unknown };

const cachedTokens = (usage: UsageLike | null): number | null => {
  const details = usage?.prompt_tokens_details as { cached_tokens?: unknown } | null | undefined;
  return typeof details?.cached_tokens === "number" ? details.cached_tokens : null;
};

/**
 * One request's ledger row, filled in as the route learns things and recorded exactly once. Its id
 * is the request's (decided when it arrived); its tokens and cost also go to the request's log line.
 */
export class LedgerEntry {
  readonly requestId: string;
  private readonly at = Date.now();
  private readonly started = performance.now();
  agentId: string | null = null;
  sessionKey: string | null = null;
  stream = false;
  /** The virtual key's id; null for the gateway token. */
  keyId: string | null = null;
  /** The key's admission: settled with this row's usage and cost when the row is recorded (released without usage). */
  grant: KeyGrant | undefined;
  private model: ModelRef | null = null;
  private recorded = false;
  /** Its timing (upstream vs overhead), attempts and end, for the overhead header, metrics and traces. */
  readonly observation: RequestObservation;

  constructor(
    private readonly ctx: GatewayContext,
    private readonly log: RequestLog,
    private readonly endpoint: string,
    /** The HTTP request (its timing and trace headers); a WebSocket turn has none of its own. */
    request: ObservedRequest = NO_REQUEST,
  ) {
    this.requestId = log.requestId;
    this.observation = new RequestObservation(ctx.observer, request, endpoint, this.requestId);
  }

  use(ref: ModelRef): void {
    this.model = ref;
  }

  /** `output` (the answer) is only for traces that capture content. */
  record(status: RequestRecord["status"], usage: UsageLike | null, cost: number | null, error?: string, output?: unknown): void {
    if (this.recorded) return;
    this.recorded = true;
    // One figure for the ledger and the budget; a stream's usage is the one the relay saw at its end.
    this.grant?.settle(usage, cost);
    if (usage) {
      this.log.tokensIn = usage.prompt_tokens;
      this.log.tokensOut = usage.completion_tokens;
    }
    if (cost !== null) this.log.cost = cost;
    const row: RequestRecord = {
      requestId: this.requestId,
      at: this.at,
      agentId: this.agentId,
      keyId: this.keyId,
      model: this.model?.ref ?? null,
      provider: this.model?.provider ?? null,
      endpoint: this.endpoint,
      status,
      error,
      promptTokens: usage?.prompt_tokens ?? null,
      completionTokens: usage?.completion_tokens ?? null,
      cachedTokens: cachedTokens(usage),
      cost,
      latencyMs: Math.round((performance.now() - this.started) * 100) / 100,
      sessionKey: this.sessionKey,
      stream: this.stream,
    };
    this.ctx.store.recordRequest(row);
    this.observation.ended(row, this.model, output);
  }

  /** A request that threw before recording itself: an error (or the client gone), with what was known. */
  recordFailure(error: unknown): void {
    this.observation.failed(error);
    if (error instanceof ClientAbortError) this.record("aborted", null, null);
    else this.record("error", null, null, isOpenClawError(error) ? error.message : "internal error");
  }
}

/** Runs a route with its ledger entry: whatever happens, the request is recorded once (and its key's grant settled). */
export async function withLedgerEntry(
  ctx: GatewayContext,
  log: RequestLog,
  endpoint: string,
  run: (entry: LedgerEntry) => Promise<void>,
  keyId: string | null = null,
  request?: ObservedRequest,
): Promise<void> {
  const entry = new LedgerEntry(ctx, log, endpoint, request);
  entry.keyId = keyId;
  try {
    await run(entry);
  } catch (error) {
    entry.recordFailure(error);
    throw error;
  }
  entry.record("ok", null, null);
}
