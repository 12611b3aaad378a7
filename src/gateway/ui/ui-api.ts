import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { resolveStatePaths } from "../../config/paths.js";
import { InvalidRequestError, NotFoundError } from "../../shared/errors.js";
import { canReadSessions } from "../../store/session-reader.js";
import type { GatewayContext, RequestLog } from "../context.js";
import { MAX_IDENTIFIER_LENGTH, MethodNotAllowedError, sendJson } from "../http.js";
import { listModels } from "../routes/models.js";
import { handleCreateKey, handleListKeys, handleUsage, revokeKey } from "../routes/operator.js";
import { readLogTail } from "./log-tail.js";

/** The overview's ranges: each cut into 60-ish buckets (a point a minute for the last hour). */
export const SERIES_RANGES: Record<string, { rangeMs: number; bucketMs: number }> = {
  "1h": { rangeMs: 3_600_000, bucketMs: 60_000 },
  "6h": { rangeMs: 6 * 3_600_000, bucketMs: 5 * 60_000 },
  "24h": { rangeMs: 24 * 3_600_000, bucketMs: 15 * 60_000 },
  "7d": { rangeMs: 7 * 24 * 3_600_000, bucketMs: 2 * 3_600_000 },
};

/** Most sessions one listing returns. */
const MAX_SESSIONS_LISTED = 200;

function decodeSegment(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function shortParam(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name)?.trim() || undefined;
  if (value !== undefined && value.length > MAX_IDENTIFIER_LENGTH)
    throw new InvalidRequestError(`${name} is longer than ${MAX_IDENTIFIER_LENGTH} characters`, { param: name });
  return value;
}

async function series(ctx: GatewayContext, query: URLSearchParams, response: ServerResponse, now: number) {
  const rangeName = query.get("range") ?? "1h";
  // An own key only: `range=__proto__` must not find Object.prototype.
  const range = Object.hasOwn(SERIES_RANGES, rangeName) ? SERIES_RANGES[rangeName] : undefined;
  if (!range) throw new InvalidRequestError(`range must be one of ${Object.keys(SERIES_RANGES).join(", ")}`, { param: "range" });
  // Bucket edges fall on whole multiples, so a chart polled again lines up with the last one.
  const until = Math.ceil((now + 1) / range.bucketMs) * range.bucketMs;
  const since = until - range.rangeMs;
  const points = await ctx.store.requestSeries({ since, until, bucketMs: range.bucketMs });
  sendJson(response, 200, { object: "openclaw.series", range: rangeName, since, until, bucket_ms: range.bucketMs, points });
}

async function models(ctx: GatewayContext, response: ServerResponse) {
  const entries = await listModels(ctx, undefined);
  const names = ctx.runtime.aliases.names;
  sendJson(response, 200, { object: "list", data: entries.map((entry) => ({ ...entry, aliases: names.get(entry.id) ?? [] })) });
}

function sessionReader(ctx: GatewayContext) {
  if (!canReadSessions(ctx.store)) throw new NotFoundError("this gateway's store cannot list sessions", { code: "sessions_unavailable" });
  return ctx.store;
}

async function sessions(ctx: GatewayContext, query: URLSearchParams, response: ServerResponse) {
  const agentId = shortParam(query, "agent");
  const text = shortParam(query, "q");
  const data = await sessionReader(ctx).listSessions({
    limit: MAX_SESSIONS_LISTED,
    ...(agentId ? { agentId } : {}),
    ...(text ? { text } : {}),
  });
  sendJson(response, 200, { object: "list", data });
}

async function transcript(ctx: GatewayContext, key: string, response: ServerResponse) {
  const found = await sessionReader(ctx).getSession(key);
  if (!found) throw new NotFoundError(`no session ${JSON.stringify(key.slice(0, MAX_IDENTIFIER_LENGTH))}`, { code: "session_not_found" });
  sendJson(response, 200, found);
}

async function logs(query: URLSearchParams, response: ServerResponse, logFile: string) {
  const cursor = query.get("cursor") ?? undefined;
  if (cursor !== undefined && !/^\d*:\d*$/.test(cursor))
    throw new InvalidRequestError("cursor is not one this endpoint gave", { param: "cursor" });
  sendJson(response, 200, { object: "openclaw.log_tail", ...(await readLogTail(logFile, cursor)) });
}

/** Where the gateway writes its log (gateway.logs.file): the same state dir the gateway was started with. */
export const defaultLogFile = () => path.join(resolveStatePaths().stateDir, "logs", "gateway.log");

/**
 * The dashboard's data, for a signed-in session (checked by the caller, with CSRF for changes).
 * Keys and usage go through the operator routes' own handlers, so the rules are the same as
 * `/v1/openclaw/*` and `openclaw keys`.
 */
export async function handleUiApi(
  ctx: GatewayContext,
  request: IncomingMessage,
  response: ServerResponse,
  log: RequestLog,
  route: string,
  logFile: string,
): Promise<void> {
  const method = request.method ?? "GET";
  const query = new URL(request.url ?? "/", "http://gateway").searchParams;
  const slash = route.indexOf("/");
  const [name, rest] = slash < 0 ? [route, undefined] : [route.slice(0, slash), decodeSegment(route.slice(slash + 1))];
  const calls: Record<string, Partial<Record<string, () => Promise<void>>>> = rest === undefined
    ? {
        series: { GET: () => series(ctx, query, response, Date.now()) },
        usage: { GET: () => handleUsage(ctx, request, response, log, null) },
        models: { GET: () => models(ctx, response) },
        sessions: { GET: () => sessions(ctx, query, response) },
        logs: { GET: () => logs(query, response, logFile) },
        keys: {
          GET: () => handleListKeys(ctx, request, response, log, null),
          POST: () => handleCreateKey(ctx, request, response, log, null),
        },
      }
    : {
        sessions: { GET: () => transcript(ctx, rest, response) },
        keys: { DELETE: async () => sendJson(response, 200, await revokeKey(ctx, rest)) },
      };
  const methods = Object.hasOwn(calls, name) ? calls[name] : undefined;
  if (!methods) throw new NotFoundError(`no such endpoint: ${method} /ui/api/${route.slice(0, 100)}`, { code: "unknown_url" });
  const call = methods[method];
  if (!call) throw new MethodNotAllowedError(method, `/ui/api/${route.slice(0, 100)}`, Object.keys(methods));
  await call();
}
