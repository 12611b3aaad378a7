import { hash } from "node:crypto";
import { type IncomingMessage, STATUS_CODES } from "node:http";
import type { Duplex } from "node:stream";
import { InvalidRequestError, isOpenClawError, OpenClawError, PermissionError, RateLimitError } from "../../shared/errors.js";
import type { GatewayContext } from "../context.js";

/**
 * Browsers cannot set `Authorization` on a WebSocket. They offer two subprotocols instead:
 * `openclaw.responses` (the one the gateway selects and echoes) and
 * `openclaw-bearer.<base64url(token)>` (read, never echoed). Base64url keeps any token or
 * password inside the characters a subprotocol may hold. A query-string token is never read:
 * URLs end up in logs and browser history.
 */
export const RESPONSES_PROTOCOL = "openclaw.responses";
export const BEARER_PROTOCOL_PREFIX = "openclaw-bearer.";

/** The subprotocols a client offered (`Sec-WebSocket-Protocol`, comma-separated). */
function offeredProtocols(request: IncomingMessage): string[] {
  const header = request.headers["sec-websocket-protocol"];
  return typeof header === "string" ? header.split(",").map((name) => name.trim()) : [];
}

/**
 * Puts a subprotocol token where GatewayAuth reads a bearer, so both paths share one check,
 * lockout and rate limit included. A header, when sent, wins.
 */
export function adoptProtocolToken(request: IncomingMessage): void {
  if (request.headers.authorization) return;
  const offered = offeredProtocols(request);
  const bearer = offered.find((name) => name.startsWith(BEARER_PROTOCOL_PREFIX));
  if (!bearer) return;
  if (!offered.includes(RESPONSES_PROTOCOL)) {
    throw new InvalidRequestError(
      `offer the subprotocol ${RESPONSES_PROTOCOL} beside ${BEARER_PROTOCOL_PREFIX}<token>: the gateway echoes that one, never the token`,
      { code: "invalid_subprotocol", param: "sec-websocket-protocol" },
    );
  }
  const token = Buffer.from(bearer.slice(BEARER_PROTOCOL_PREFIX.length), "base64url").toString("utf8");
  request.headers.authorization = `Bearer ${token}`;
}

/** The subprotocol the server answers with: the fixed name when offered, else none. */
export function selectProtocol(protocols: Set<string>): string | false {
  return protocols.has(RESPONSES_PROTOCOL) ? RESPONSES_PROTOCOL : false;
}

/**
 * Browsers do not apply CORS to WebSockets, so the server refuses origins that
 * `gateway.http.cors.origins` does not allow. Clients that send no Origin (not browsers) pass.
 */
export function checkOrigin(ctx: GatewayContext, request: IncomingMessage): void {
  const origin = request.headers.origin;
  if (!origin || ctx.corsOrigins.includes("*") || ctx.corsOrigins.includes(origin)) return;
  throw new PermissionError(`origin ${origin.slice(0, 256)} is not allowed: add it to gateway.http.cors.origins`, {
    code: "origin_not_allowed",
  });
}

/**
 * Who the connection counts against: a digest of the credential it authenticated with (never
 * the credential itself), so the limit follows the credential across addresses.
 */
export function credentialKey(request: IncomingMessage): string {
  const match = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? "");
  return hash("sha256", (match?.[1] ?? "").trim(), "hex").slice(0, 32);
}

/** Answers a refused upgrade with an OpenAI-shaped HTTP error, then closes: no `open` ever reaches the client. */
export function refuseUpgrade(socket: Duplex, error: unknown): void {
  const known = isOpenClawError(error)
    ? error
    : new OpenClawError("internal error in the gateway", { status: 500, type: "server_error", code: "internal_error", cause: error });
  const body = JSON.stringify(known.toBody());
  const retryAfter = known instanceof RateLimitError ? known.retryAfterSeconds : undefined;
  const lines = [
    `HTTP/1.1 ${known.status} ${STATUS_CODES[known.status] ?? "Error"}`,
    "content-type: application/json",
    `content-length: ${Buffer.byteLength(body)}`,
    "connection: close",
    ...(retryAfter !== undefined ? [`retry-after: ${Math.max(1, Math.ceil(retryAfter))}`] : []),
  ];
  socket.on("error", () => socket.destroy());
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  socket.once("finish", () => socket.destroy());
  socket.end(`${lines.join("\r\n")}\r\n\r\n${body}`);
  // A client that never reads is cut anyway.
  setTimeout(() => socket.destroy(), 1_000).unref();
}
