import type { ServerResponse } from "node:http";
import type { ModelRef } from "../models/model-ref.js";
import { PermissionError, RateLimitError } from "../shared/errors.js";
import type { KeyRecord, KeyStore } from "../store/key-store.js";
import { estimateTokens } from "./limits/budget-seed.js";
import type { KeyLimiter } from "./limits/key-limiter.js";
import type { RateLimitHeaders } from "./limits/rate-headers.js";
import { retryAfterSeconds } from "./limits/rate-headers.js";

/** Who is calling: null is the gateway token (the operator, unlimited); otherwise a virtual key. */
export type Caller = KeyRecord | null;

/** What the gateway holds for virtual keys (absent: the gateway token is the only credential). */
export interface GatewayKeys {
  store: KeyStore;
  limiter: KeyLimiter;
  now: () => number;
  /** Apply a change made through the store now (the operator routes), not at the next watch event. */
  reload?: () => Promise<void>;
  /** Told of each refusal by a limit (requests, tokens, parallel, budget), for the metrics. */
  onRejected?: (limit: string) => void;
}

/** Usage as the ledger row has it: `total_tokens` when reported, else prompt + completion. */
export interface GrantUsage {
  prompt_tokens?: number;
  completion_tokens?: number;
  total_tokens?: number;
}

/**
 * An admitted keyed request. Exactly one of `settle` and `release` counts (the first): the
 * ledger entry calls it when it records the request, so every ending (success, stream end,
 * error, abort) frees the key's parallel slot and corrects its TPM with the real usage.
 */
export interface KeyGrant {
  /** `x-ratelimit-*` for the response. */
  readonly headers: RateLimitHeaders;
  settle(usage: GrantUsage | null, cost: number | null): void;
  release(): void;
}

const tokensOf = (usage: GrantUsage): number => usage.total_tokens ?? (usage.prompt_tokens ?? 0) + (usage.completion_tokens ?? 0);

/** 403 when the key may not use this agent. */
export function checkAgentScope(key: Caller, agentId: string): void {
  if (key?.agents && !key.agents.includes(agentId))
    throw new PermissionError(`this API key may not use agent ${agentId}`, { code: "agent_not_allowed", param: "model" });
}

/**
 * The chain this key may use: 403 when the model asked for (the chain's first) is outside the
 * key's models; fallbacks outside them are dropped, never used.
 */
export function scopeChain(key: Caller, chain: ModelRef[]): ModelRef[] {
  const models = key?.models;
  if (!models) return chain;
  const first = chain[0];
  if (first && !models.includes(first.ref))
    throw new PermissionError(`this API key may not use model ${first.ref}`, { code: "model_not_allowed", param: "model" });
  return chain.filter((ref) => models.includes(ref.ref));
}

/** True when a listed model is within the key's scope. */
export function keySees(key: Caller, ref: string): boolean {
  return !key?.models || key.models.includes(ref);
}

/**
 * Take a slot for a keyed request after its scope is checked: RPM, TPM (an estimate from the
 * body size and the output allowance, settled on the real usage), parallel and budget. Refusals
 * throw a 429: `insufficient_quota` for a spent budget (OpenAI's shape, and `x-should-retry:
 * false` so SDKs do not retry it), `rate_limit_exceeded` with Retry-After for the others. The
 * operator (null) takes nothing. Transports other than HTTP (the Responses WebSocket) call this
 * per `response.create` and settle the grant themselves when the response ends.
 */
export async function admitKey(
  keys: GatewayKeys | undefined,
  key: Caller,
  input: { bodyBytes: number; maxOutputTokens: number | undefined },
): Promise<KeyGrant | undefined> {
  if (!key || !keys) return undefined;
  const { limiter, now } = keys;
  const admission = await limiter.acquire({
    key,
    estimateTokens: estimateTokens(input.bodyBytes, input.maxOutputTokens),
    now: now(),
  });
  if (!admission.ok) {
    keys.onRejected?.(admission.limit);
    if (admission.limit === "budget")
      throw new RateLimitError(`${admission.message}; ask the gateway's operator to raise it`, {
        type: "insufficient_quota",
        code: "insufficient_quota",
        headers: { ...admission.headers, "x-should-retry": "false" },
        ...(admission.retryAfterMs === undefined ? {} : { retryAfterSeconds: retryAfterSeconds(admission.retryAfterMs) }),
      });
    throw new RateLimitError(admission.message, {
      headers: admission.headers,
      retryAfterSeconds: retryAfterSeconds(admission.retryAfterMs ?? 1000),
    });
  }
  const { reservation } = admission;
  return {
    headers: admission.headers,
    settle: (usage, cost) => {
      if (!usage) return reservation.release();
      reservation.settle({ tokens: tokensOf(usage), cost }, now());
    },
    release: () => reservation.release(),
  };
}

/** The key's rate-limit headers on a successful response (as OpenAI sends them), before its head is written. */
export function applyGrantHeaders(response: ServerResponse, grant: KeyGrant | undefined): void {
  if (!grant) return;
  for (const name in grant.headers) response.setHeader(name, grant.headers[name] as string);
}

/** The largest output a request allows, from whichever field its endpoint uses. */
export function maxOutputOf(body: object): number | undefined {
  const fields = body as { max_tokens?: unknown; max_completion_tokens?: unknown; max_output_tokens?: unknown };
  for (const value of [fields.max_completion_tokens, fields.max_tokens, fields.max_output_tokens])
    if (typeof value === "number" && Number.isFinite(value) && value > 0) return value;
  return undefined;
}
