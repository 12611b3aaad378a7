import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { NotFoundError } from "../shared/errors.js";
import type { GatewayContext, RequestLog, RouteHandler } from "./context.js";
import { abortOnClientClose, MethodNotAllowedError, sendError, sendJson } from "./http.js";
import { handleChatCompletions } from "./routes/chat-completions.js";
import { handleEmbeddings } from "./routes/embeddings.js";
import { handleGetModel, handleListModels } from "./routes/models.js";
import { handleCreateResponse, handleDeleteResponse, handleGetResponse } from "./routes/responses.js";

interface Route {
  methods: Record<string, RouteHandler>;
  /** The config key that turns it on, when it can be off. */
  enabledBy?: (ctx: GatewayContext) => string | undefined;
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
};

function responsesSurface(ctx: GatewayContext): string | undefined {
  return ctx.endpoints.responses ? undefined : "gateway.http.endpoints.responses.enabled";
}

function matchRoute(path: string): Route | undefined {
  const exact = ROUTES[path];
  if (exact) return exact;
  if (path.startsWith("/v1/models/") && path.length > "/v1/models/".length)
    return { methods: { GET: handleGetModel }, enabledBy: chatSurface };
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
    "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
    "access-control-allow-headers": request.headers["access-control-request-headers"] ?? "authorization, content-type",
    "access-control-max-age": "600",
  });
  response.end();
  return true;
}

/**
 * The only place that listens. Every request: route, method, bearer auth, endpoint switch,
 * handler; every failure becomes an OpenAI-shaped error; one log line when it ends.
 */
export function createGatewayServer(ctx: GatewayContext): Server {
  const handle = async (request: IncomingMessage, response: ServerResponse, log: RequestLog) => {
    const path = (request.url ?? "/").split("?")[0] as string;
    const method = request.method ?? "GET";
    if (applyCors(ctx, request, response)) return;
    if (path === "/healthz" || path === "/health") {
      sendJson(response, 200, { ok: true });
      return;
    }
    const route = matchRoute(path);
    if (!route) throw new NotFoundError(`no such endpoint: ${method} ${path}`, { code: "unknown_url" });
    const handler = route.methods[method];
    if (!handler) throw new MethodNotAllowedError(method, path, Object.keys(route.methods));
    ctx.auth.check(request);
    const disabledKey = route.enabledBy?.(ctx);
    if (disabledKey)
      throw new NotFoundError(`${path} is disabled: set ${disabledKey} to true (openclaw config set ${disabledKey} true)`, {
        code: "endpoint_disabled",
      });
    await handler(ctx, request, response, log);
  };

  return createServer({ keepAliveTimeout: 65_000, headersTimeout: 60_000, requestTimeout: 0 }, (request, response) => {
    const started = performance.now();
    const log: RequestLog = {};
    abortOnClientClose(response);
    response.once("close", () => {
      ctx.logger.info(
        {
          method: request.method,
          path: (request.url ?? "/").split("?")[0],
          status: response.headersSent ? response.statusCode : 499,
          ms: Math.round((performance.now() - started) * 100) / 100,
          ...log,
          ...(response.writableFinished ? {} : { aborted: true }),
        },
        "request",
      );
    });
    handle(request, response, log).catch((error: unknown) => {
      log.error = error instanceof Error ? error.message : String(error);
      if (!(error instanceof Error) || !("status" in error)) ctx.logger.error({ err: error }, "unexpected error");
      sendError(response, error);
    });
  });
}
