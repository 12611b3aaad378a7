import type { IncomingMessage } from "node:http";
import type { GatewayContext, RouteHandler } from "./context.js";
import type { Caller } from "./key-guard.js";
import { handleChatCompletions } from "./routes/chat-completions.js";
import { handleEmbeddings } from "./routes/embeddings.js";
import { authenticateScrape, handleMetrics, metricsDisabledBy } from "./routes/metrics.js";
import { handleGetModel, handleListModels } from "./routes/models.js";
import { handleCreateKey, handleGetKey, handleListKeys, handleRevokeKey, handleUpdateKey, handleUsage } from "./routes/operator.js";
import { handleCreateResponse, handleDeleteResponse, handleGetResponse } from "./routes/responses.js";

/** Which handler answers which path and method; loaded after the gateway listens (see `loadRoutes` in server.ts). */
export interface Route {
  methods: Record<string, RouteHandler>;
  /** The config key that turns it on, when it can be off. */
  enabledBy?: (ctx: GatewayContext) => string | undefined;
  /** Only the gateway token may call it (API keys get 403). */
  operatorOnly?: boolean;
  /** It authenticates its callers itself (the dashboard: a page, a sign-in form, a session cookie); no bearer check first. */
  ownAuth?: boolean;
  /** Its own check of the bearer instead of the gateway's (which it may fall back to). */
  authenticate?: (ctx: GatewayContext, request: IncomingMessage) => Caller;
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
  "/metrics": { methods: { GET: handleMetrics }, operatorOnly: true, authenticate: authenticateScrape, enabledBy: metricsDisabledBy },
};

const KEY_ROUTE: Route = {
  methods: { GET: handleGetKey, PATCH: handleUpdateKey, DELETE: handleRevokeKey },
  operatorOnly: true,
};

/** The dashboard's code loads on its first request: a gateway that never serves /ui never loads it. */
const handleUi: RouteHandler = async (...args) => (await import("./ui/ui-route.js")).handleUi(...args);
const UI_ROUTE: Route = {
  methods: { GET: handleUi, HEAD: handleUi, POST: handleUi, PATCH: handleUi, DELETE: handleUi },
  ownAuth: true,
  enabledBy: (ctx) => (ctx.runtime.config.gateway?.ui?.enabled === false ? "gateway.ui.enabled" : undefined),
};

function responsesSurface(ctx: GatewayContext): string | undefined {
  return ctx.endpoints.responses ? undefined : "gateway.http.endpoints.responses.enabled";
}

export function matchRoute(path: string): Route | undefined {
  const exact = ROUTES[path];
  if (exact) return exact;
  if (path.startsWith("/v1/models/") && path.length > "/v1/models/".length)
    return { methods: { GET: handleGetModel }, enabledBy: chatSurface };
  if (path === "/ui" || path.startsWith("/ui/")) return UI_ROUTE;
  if (path.startsWith("/v1/openclaw/keys/") && path.length > "/v1/openclaw/keys/".length) return KEY_ROUTE;
  if (path.startsWith("/v1/responses/") && path.length > "/v1/responses/".length) {
    return { methods: { GET: handleGetResponse, DELETE: handleDeleteResponse }, enabledBy: responsesSurface };
  }
  return undefined;
}
