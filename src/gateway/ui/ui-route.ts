import type { IncomingMessage, ServerResponse } from "node:http";
import { AuthenticationError, InvalidRequestError, PermissionError } from "../../shared/errors.js";
import type { GatewayContext, RouteHandler } from "../context.js";
import { expectObject, MethodNotAllowedError, readJsonBody, sendJson } from "../http.js";
import { assertSameOrigin, setSecurityHeaders } from "./browser-guard.js";
import { loadAssets, sendAsset } from "./static-assets.js";
import { defaultLogFile, handleUiApi } from "./ui-api.js";
import {
  CSRF_HEADER,
  clearedCookie,
  cookieValue,
  csrfMatches,
  DEFAULT_SESSION_TTL_MS,
  SESSION_COOKIE,
  sessionCookie,
  UiSessions,
} from "./ui-sessions.js";

/** A sign-in body holds one token: anything bigger is not one. */
const MAX_LOGIN_BODY_BYTES = 16 * 1024;

interface UiState {
  sessions: UiSessions;
  logFile: string;
}

// One set of sessions per gateway (its context), made on the first /ui request.
const states = new WeakMap<GatewayContext, UiState>();
let assets: ReturnType<typeof loadAssets> | undefined;

function stateOf(ctx: GatewayContext): UiState {
  let state = states.get(ctx);
  if (!state) {
    state = { sessions: new UiSessions(), logFile: defaultLogFile() };
    states.set(ctx, state);
  }
  return state;
}

const MUTATING = new Set(["POST", "PATCH", "DELETE"]);

/**
 * Sign-in with the gateway token, checked by the gateway's own authenticator (constant time,
 * failures counted towards its lockout). API keys are refused: the dashboard is the operator's.
 */
async function login(ctx: GatewayContext, request: IncomingMessage, response: ServerResponse, state: UiState): Promise<void> {
  assertSameOrigin(request);
  const body = expectObject<{ token?: unknown }>(await readJsonBody(request, MAX_LOGIN_BODY_BYTES));
  if (typeof body.token !== "string" || body.token.trim() === "")
    throw new InvalidRequestError("token is required (the gateway token: openclaw gateway token prints it)", { param: "token" });
  const probe = { headers: { authorization: `Bearer ${body.token}` }, socket: request.socket } as unknown as IncomingMessage;
  if (ctx.auth.check(probe))
    throw new PermissionError("API keys cannot sign in to the dashboard: it is for the gateway's operator (use the gateway token)", {
      code: "operator_only",
    });
  const session = state.sessions.create(ctx.auth.secretDigest);
  sendJson(
    response,
    200,
    { csrf: session.csrf, expires_at: Math.floor(session.expiresAt / 1000) },
    { "set-cookie": sessionCookie(request, session.id, DEFAULT_SESSION_TTL_MS) },
  );
}

async function api(
  ctx: GatewayContext,
  request: IncomingMessage,
  response: ServerResponse,
  route: string,
  log: Parameters<RouteHandler>[3],
) {
  const state = stateOf(ctx);
  const method = request.method ?? "GET";
  response.setHeader("cache-control", "no-store");
  if (route === "login") {
    if (method !== "POST") throw new MethodNotAllowedError(method, "/ui/api/login", ["POST"]);
    return login(ctx, request, response, state);
  }
  // A change must come from the dashboard's own page before anything else is looked at.
  if (MUTATING.has(method)) assertSameOrigin(request);
  const id = cookieValue(request, SESSION_COOKIE);
  const session = state.sessions.find(id, ctx.auth.secretDigest);
  if (!session) {
    response.setHeader("set-cookie", clearedCookie(request));
    throw new AuthenticationError("sign in to the dashboard first (your session ended or the gateway token changed)", {
      code: "ui_session_required",
    });
  }
  if (MUTATING.has(method)) {
    const presented = request.headers[CSRF_HEADER];
    if (!csrfMatches(Array.isArray(presented) ? presented[0] : presented, session.csrf))
      throw new PermissionError(`missing or wrong ${CSRF_HEADER} header`, { code: "csrf_token_invalid" });
  }
  if (route === "session") {
    if (method !== "GET") throw new MethodNotAllowedError(method, "/ui/api/session", ["GET"]);
    return sendJson(response, 200, { csrf: session.csrf, expires_at: Math.floor(session.expiresAt / 1000) });
  }
  if (route === "logout") {
    if (method !== "POST") throw new MethodNotAllowedError(method, "/ui/api/logout", ["POST"]);
    state.sessions.remove(id);
    response.writeHead(204, { "set-cookie": clearedCookie(request) });
    response.end();
    return;
  }
  return handleUiApi(ctx, request, response, log, route, state.logFile);
}

/** Everything under /ui: the page and its files (public: they hold no data), and the signed-in JSON API. */
export const handleUi: RouteHandler = async (ctx, request, response, log) => {
  setSecurityHeaders(response);
  const path = (request.url ?? "/").split("?")[0] as string;
  if (path.startsWith("/ui/api/")) return api(ctx, request, response, path.slice("/ui/api/".length), log);
  const method = request.method ?? "GET";
  if (method !== "GET" && method !== "HEAD") throw new MethodNotAllowedError(method, path.slice(0, 100), ["GET", "HEAD"]);
  assets ??= loadAssets();
  const file = path === "/ui" || path === "/ui/" ? "index.html" : path.slice("/ui/".length);
  sendAsset(request, response, await assets, file);
};
