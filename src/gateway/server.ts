import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { NotFoundError, OpenClawError, PermissionError, RateLimitError } from "../shared/errors.js";
import { answerClientError, limitConnectionsPerClient, lingerOnUnreadBody } from "./client-limits.js";
import type { ClientLimits, GatewayContext, RequestLog } from "./context.js";
import { abortOnClientClose, ClientAbortError, MethodNotAllowedError, sendError, sendJson, setBodySettings } from "./http.js";
import { REQUEST_ID_HEADER, requestIdOf } from "./logging/request-id.js";
import { logRequestWhenDone } from "./logging/request-line.js";
import { timedMessages } from "./observability/timed-http.js";
import { attachResponsesWebSocket, type ResponsesWebSockets } from "./responses-ws/attach.js";

type RouteTable = typeof import("./route-table.js");
let routeTable: RouteTable | undefined;
let loadingRoutes: Promise<RouteTable> | undefined;

/**
 * The route handlers and everything only they use (agents, streaming, /v1/responses) are loaded
 * once the gateway listens, not before: start-up does not wait for them, and a request that comes
 * before they are in waits for them once.
 */
export function loadRoutes(): Promise<RouteTable> {
  loadingRoutes ??= import("./route-table.js").then((table) => {
    routeTable = table;
    return table;
  });
  return loadingRoutes;
}

/**
 * CORS for browser clients, only for origins in `gateway.http.cors.origins`. Answers preflights
 * itself (they carry no token); returns true when it did.
 */
function applyCors(ctx: GatewayContext, request: IncomingMessage, response: ServerResponse): boolean {
  const origin = request.headers.origin;
  if (!origin || ctx.corsOrigins.length === 0) return false;
  const allowed = ctx.corsOrigins.includes("*") || ctx.corsOrigins.includes(origin);
  if (!allowed) return false;
  response.setHeader("access-control-allow-origin", origin);
  response.setHeader("vary", "Origin");
  if (request.method !== "OPTIONS") return false;
  response.writeHead(204, {
    "access-control-allow-methods": "GET, POST, PATCH, DELETE, OPTIONS",
    "access-control-allow-headers": request.headers["access-control-request-headers"] ?? "authorization, content-type",
    "access-control-max-age": "600",
  });
  response.end();
  return true;
}

/** Longer paths are refused before routing. */
const MAX_PATH_LENGTH = 2048;

/** How often Node looks for requests past their timeouts: often enough that a timeout is honoured closely. */
function checkingInterval(limits: ClientLimits): number {
  const shortest = Math.min(limits.requestTimeoutMs || Number.POSITIVE_INFINITY, limits.headersTimeoutMs);
  return Math.max(50, Math.min(1_000, Math.floor(shortest / 4)));
}

/** New timeouts from a config reload (the checking interval stays as it started). */
export function applyTimeouts(server: Server, limits: ClientLimits): void {
  server.requestTimeout = limits.requestTimeoutMs;
  server.headersTimeout = limits.headersTimeoutMs;
}

export interface GatewayServer {
  server: Server;
  /** Resolves when every request handler has returned (including recording its turn), or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void>;
  /** The Responses WebSockets on this port, for the shutdown's drain. */
  websockets: ResponsesWebSockets;
}

/**
 * The only place that listens. Every request: route, method, bearer auth, endpoint switch,
 * handler; every failure becomes an OpenAI-shaped error; one log line when it ends.
 */
export function createGatewayServer(ctx: GatewayContext): GatewayServer {
  const handle = async (request: IncomingMessage, response: ServerResponse, log: RequestLog) => {
    const path = (request.url ?? "/").split("?")[0] as string;
    const method = request.method ?? "GET";
    if (isRefused(request.socket)) {
      response.setHeader("connection", "close");
      throw new RateLimitError(`too many open connections from this client (gateway.http.maxConnectionsPerClient)`, {
        retryAfterSeconds: 1,
        code: "too_many_connections",
      });
    }
    if (path.length > MAX_PATH_LENGTH)
      throw new OpenClawError(`the request path is longer than ${MAX_PATH_LENGTH} characters`, {
        status: 414,
        type: "invalid_request_error",
        code: "uri_too_long",
      });
    if (applyCors(ctx, request, response)) return;
    if (path === "/healthz" || path === "/health") {
      if (method !== "GET" && method !== "HEAD") throw new MethodNotAllowedError(method, path, ["GET", "HEAD"]);
      sendJson(response, 200, { ok: true });
      return;
    }
    const route = (routeTable ?? (await loadRoutes())).matchRoute(path);
    if (!route) throw new NotFoundError(`no such endpoint: ${method} ${path}`, { code: "unknown_url" });
    // HEAD wherever GET works: the same handler, and Node sends the head without the body.
    const handler = route.methods[method] ?? (method === "HEAD" ? route.methods.GET : undefined);
    if (!handler) {
      const methods = Object.keys(route.methods);
      throw new MethodNotAllowedError(method, path, methods.includes("GET") ? [...methods, "HEAD"] : methods);
    }
    const caller = route.ownAuth ? null : route.authenticate ? route.authenticate(ctx, request) : ctx.auth.check(request);
    if (caller) log.key = caller.id;
    if (caller && route.operatorOnly)
      throw new PermissionError(`${path} is for the gateway's operator: use the gateway token, not an API key`, {
        code: "operator_only",
      });
    const disabledKey = route.enabledBy?.(ctx);
    if (disabledKey)
      throw new NotFoundError(`${path} is disabled: set ${disabledKey} to true (openclaw config set ${disabledKey} true)`, {
        code: "endpoint_disabled",
      });
    await handler(ctx, request, response, log, caller);
  };

  const inFlight = new Set<Promise<void>>();
  const limits = ctx.clientLimits;
  const server = createServer(
    {
      keepAliveTimeout: 65_000,
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: checkingInterval(limits),
      ...timedMessages,
    },
    (request, response) => {
      const started = performance.now();
      // One id per request, decided here: every response (errors, 404s, /healthz) carries it.
      const log: RequestLog = { requestId: requestIdOf(request) };
      response.setHeader(REQUEST_ID_HEADER, log.requestId);
      abortOnClientClose(response);
      setBodySettings(request, ctx.clientLimits);
      const done = handle(request, response, log).catch((error: unknown) => {
        log.error = error instanceof Error ? error.message : String(error);
        // A client gone mid-upload is logged by its request line (status 499), nothing more.
        if (error instanceof ClientAbortError) return;
        if (!(error instanceof Error) || !("status" in error))
          ctx.logger.error({ requestId: log.requestId, err: error }, "unexpected error");
        sendError(response, error);
        lingerOnUnreadBody(request);
      });
      logRequestWhenDone(ctx.logger, request, response, log, started, done);
      inFlight.add(done);
      const forget = () => inFlight.delete(done);
      void done.then(forget, forget);
    },
  );
  server.on("clientError", answerClientError);
  const isRefused = limitConnectionsPerClient(server, () => ctx.clientLimits.maxConnectionsPerClient);
  const track = (work: Promise<void>) => {
    inFlight.add(work);
    const forget = () => inFlight.delete(work);
    void work.then(forget, forget);
  };
  const websockets = attachResponsesWebSocket(server, ctx, { isRefused, track });

  return {
    server,
    websockets,
    async settled(timeoutMs) {
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      while (inFlight.size > 0) {
        const all = Promise.allSettled([...inFlight]).then(() => "done" as const);
        if ((await Promise.race([all, deadline.then(() => "late" as const)])) === "late") break;
      }
      clearTimeout(timer);
    },
  };
}
