import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { RoutingDecision, RoutingPolicy } from "../agents/routing.js";
import type { ModelRuntime } from "../models/model-runtime.js";
import { InvalidRequestError } from "../shared/errors.js";
import type { StateStore } from "../store/state-store.js";
import type { GatewayAuth } from "./auth.js";
import { MAX_IDENTIFIER_LENGTH } from "./http.js";
import type { Caller, GatewayKeys } from "./key-guard.js";
import type { AttemptInfo, GatewayObserver } from "./observability/observer.js";
import type { RequestObservation } from "./observability/request-observation.js";

export interface GatewayContext {
  /** Replaced as a whole when the config or the credentials change (requests in flight keep theirs). */
  runtime: ModelRuntime;
  auth: GatewayAuth;
  store: StateStore;
  logger: Logger;
  endpoints: { chatCompletions: boolean; responses: boolean };
  maxBodyBytes: number;
  /** Bounds on what clients send (gateway.http.*); read per request, so a reload applies at once. */
  clientLimits: ClientLimits;
  /** Origins allowed by CORS; empty means no browser origin. */
  corsOrigins: string[];
  /** Virtual keys: their store (operator routes) and limiter. Absent: only the gateway token exists. */
  keys?: GatewayKeys;
  /** Retries, first-byte budget and cooldowns for model calls (gateway.routing). */
  routing?: RoutingPolicy;
  /** Metrics and traces (see observability/start.ts); absent until loaded after listen, and when both are off. */
  observer?: GatewayObserver;
}

export interface ClientLimits {
  maxJsonDepth: number;
  /** Whole request (headers + body) must arrive within this; 0 = never (Node's meaning). */
  requestTimeoutMs: number;
  headersTimeoutMs: number;
  maxConnectionsPerClient: number;
}

/** What a route adds to the request's log line. */
export interface RequestLog {
  /** Decided once when the request arrives (the client's sane x-request-id, or a new one): header, log, ledger, turn. */
  requestId: string;
  model?: string;
  agent?: string;
  session?: string;
  stream?: boolean;
  /** The virtual key's id (never its secret); absent for the gateway token. */
  key?: string;
  tokensIn?: number | undefined;
  tokensOut?: number | undefined;
  /** USD, when the model has prices. */
  cost?: number;
  error?: string;
}

export type RouteHandler = (
  ctx: GatewayContext,
  request: IncomingMessage,
  response: ServerResponse,
  log: RequestLog,
  /** Who authenticated: null for the gateway token, else the virtual key (its scope and limits). */
  caller: Caller,
) => Promise<void>;

/** An `x-openclaw-*` header; each names something (agent, session, channel), so its length is capped. */
export function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  const text = (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
  if (text !== undefined && text.length > MAX_IDENTIFIER_LENGTH) {
    throw new InvalidRequestError(`header ${name} is longer than ${MAX_IDENTIFIER_LENGTH} characters`, {
      param: name,
      code: "string_above_max_length",
    });
  }
  return text;
}

/** Fallbacks are worth a log line: the client asked for one model and got another. */
export function logFallbacks(ctx: GatewayContext) {
  return (failed: { ref: string }, error: Error, next: { ref: string }) =>
    ctx.logger.warn({ model: failed.ref, next: next.ref, error: error.message }, "model failed before its first byte; falling back");
}

/**
 * Options for a model call: the client's signal, the routing policy, a log line (and a metric) per
 * routing decision, and the request's observation of each attempt (upstream time, metrics, spans).
 */
export function runOptions(ctx: GatewayContext, signal: AbortSignal, entry: { requestId: string; observation: RequestObservation }) {
  const { requestId, observation } = entry;
  return {
    signal,
    ...(ctx.routing ? { routing: ctx.routing } : {}),
    onDecision: (decision: RoutingDecision) => {
      ctx.observer?.decision(decision);
      ctx.logger.warn({ requestId, ...decision }, `routing: ${decision.decision}`);
    },
    onAttempt: (attempt: AttemptInfo) => observation.attempt(attempt),
  };
}
