import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { NotFoundError, OpenClawError, PermissionError, RateLimitError } from "../shared/errors.js";
import { answerClientError, limitConnectionsPerClient, lingerOnUnreadBody } from "./client-limits.js";
import type { ClientLimits, GatewayContext, RequestLog, RouteHandler } from "./context.js";
import { abortOnClientClose, ClientAbortError, MethodNotAllowedError, sendError, sendJson, setBodySettings } from "./http.js";
import { handleChatCompletions } from "./routes/chat-completions.js";
import { handleEmbeddings } from "./routes/embeddings.js";
import { handleGetModel, handleListModels } from "./routes/models.js";
import { handleCreateKey, handleGetKey, handleListKeys, handleRevokeKey, handleUpdateKey, handleUsage } from "./routes/operator.js";
import { handleCreateResponse, handleDeleteResponse, handleGetResponse } from "./routes/responses.js";

interface Route {
  methods: Record<string, RouteHandler>;
  /** The config key that turns it on, when it can be off. */
  enabledBy?: (ctx: GatewayContext) => string | undefined;
  /** Only the gateway token may call it (API keys get 403). */
  operatorOnly?: boolean;
}

const chatSurface = (ctx: GatewayContext) =>
  ctx.endpoints.chatCompletions || ctx.endpoints.responses ? undefined : "gateway.http.endpoints.chatCompletions.enabled";

const ROUTES: Record<string, Route> = {
  "/v1/chat/completions": {
    methods: { POST: handleChatCompletions },
    enabledBy: (ctx) => (ctx.endpoints.chatCompletions ? undefined : "gateway.http.endpoints.chatCompletions.enabled"),
  },
  "/v1/models": { methods: { GET: handleListModels }, enabledBy: chatSurface },
  "/v1/responses": { methods: { POST: handleCreateResponse }, enabledBy: responsesSurface },
  "/v1/embeddings": { methods: { POST: handleEmbeddings }, enabledBy: chatSurface },
  "/v1/openclaw/usage": { methods: { GET: handleUsage }, operatorOnly: true },
  "/v1/openclaw/keys": { methods: { GET: handleListKeys, POST: handleCreateKey }, operatorOnly: true },
};

const KEY_ROUTE: Route = {
  methods: { GET: handleGetKey, PATCH: handleUpdateKey, DELETE: handleRevokeKey },
  operatorOnly: true,
};

function responsesSurface(ctx: GatewayContext): string | undefined {
  return ctx.endpoints.responses ? undefined : "gateway.http.endpoints.responses.enabled";
}

function matchRoute(path: string): Route | undefined {
  const exact = ROUTES[path];
  if (exact) return exact;
  if (path.startsWith("/v1/models/") && path.length > "/v1/models/".length)
    return { methods: { GET: handleGetModel }, enabledBy: chatSurface };
  if (path.startsWith("/v1/openclaw/keys/") && path.length > "/v1/openclaw/keys/".length) return KEY_ROUTE;
  if (path.startsWith("/v1/responses/") && path.length > "/v1/responses/".length) {
    return { methods: { GET: handleGetResponse, DELETE: handleDeleteResponse }, enabledBy: responsesSurface };
  }
  return undefined;
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

/** Longer paths are refused before routing; the log keeps at most LOGGED_PATH_LENGTH of one. */
const MAX_PATH_LENGTH = 2048;
const LOGGED_PATH_LENGTH = 256;

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
      sendJson(response, 200, { ok: true });
      return;
    }
    const route = matchRoute(path);
    if (!route) throw new NotFoundError(`no such endpoint: ${method} ${path}`, { code: "unknown_url" });
    const handler = route.methods[method];
    if (!handler) throw new MethodNotAllowedError(method, path, Object.keys(route.methods));
    const caller = ctx.auth.check(request);
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
    },
    (request, response) => {
      const started = performance.now();
      const log: RequestLog = {};
      abortOnClientClose(response);
      setBodySettings(request, ctx.clientLimits);
      response.once("close", () => {
        ctx.logger.info(
          {
            method: request.method,
            path: (request.url ?? "/").split("?")[0]?.slice(0, LOGGED_PATH_LENGTH),
            status: response.headersSent ? response.statusCode : 499,
            ms: Math.round((performance.now() - started) * 100) / 100,
            ...log,
            ...(response.writableFinished ? {} : { aborted: true }),
          },
          "request",
        );
      });
      const done = handle(request, response, log).catch((error: unknown) => {
        log.error = error instanceof Error ? error.message : String(error);
        // A client gone mid-upload is logged by its request line (status 499), nothing more.
        if (error instanceof ClientAbortError) return;
        if (!(error instanceof Error) || !("status" in error)) ctx.logger.error({ err: error }, "unexpected error");
        sendError(response, error);
        lingerOnUnreadBody(request);
      });
      inFlight.add(done);
      const forget = () => inFlight.delete(done);
      void done.then(forget, forget);
    },
  );
  server.on("clientError", answerClientError);
  const isRefused = limitConnectionsPerClient(server, () => ctx.clientLimits.maxConnectionsPerClient);

  return {
    server,
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
