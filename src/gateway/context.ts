import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "pino";
import type { ModelRuntime } from "../models/model-runtime.js";
import type { StateStore } from "../store/state-store.js";
import type { GatewayAuth } from "./auth.js";

export interface GatewayContext {
  /** Replaced as a whole when the config or the credentials change (requests in flight keep theirs). */
  runtime: ModelRuntime;
  auth: GatewayAuth;
  store: StateStore;
  logger: Logger;
  endpoints: { chatCompletions: boolean; responses: boolean };
  maxBodyBytes: number;
  /** Origins allowed by CORS; empty means no browser origin. */
  corsOrigins: string[];
}

/** What a route adds to the request's log line. */
export interface RequestLog {
  model?: string;
  agent?: string;
  session?: string;
  stream?: boolean;
  error?: string;
}

export type RouteHandler = (ctx: GatewayContext, request: IncomingMessage, response: ServerResponse, log: RequestLog) => Promise<void>;

export function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() || undefined;
}

/** Fallbacks are worth a log line: the client asked for one model and got another. */
export function logFallbacks(ctx: GatewayContext) {
  return (failed: { ref: string }, error: Error, next: { ref: string }) =>
    ctx.logger.warn({ model: failed.ref, next: next.ref, error: error.message }, "model failed before its first byte; falling back");
}
