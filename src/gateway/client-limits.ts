import type { IncomingMessage, Server } from "node:http";
import type { Socket } from "node:net";
import { socketClientKey } from "./client-address.js";
import { newRequestId, REQUEST_ID_HEADER } from "./logging/request-id.js";

/** A body the gateway refused is still read (and discarded) up to this much, so the client sees the answer. */
export const LINGER_MAX_BYTES = 32 * 1024 * 1024;
export const LINGER_MAX_MS = 10_000;

/**
 * Open connections per client (see clientKey). A connection over `max()` is not cut blindly: its
 * first request gets a 429 and the connection closes; one that sends nothing is closed after
 * `graceMs`. O(1) per connection.
 */
export function limitConnectionsPerClient(server: Server, max: () => number, graceMs = 5_000): (socket: Socket) => boolean {
  const open = new Map<string, number>();
  const refused = new WeakSet<Socket>();
  server.on("connection", (socket: Socket) => {
    const key = socketClientKey(socket);
    const count = (open.get(key) ?? 0) + 1;
    open.set(key, count);
    socket.once("close", () => {
      const left = (open.get(key) ?? 1) - 1;
      if (left > 0) open.set(key, left);
      else open.delete(key);
    });
    if (count > max()) {
      refused.add(socket);
      setTimeout(() => socket.destroy(), graceMs).unref();
    }
  });
  return (socket) => refused.has(socket);
}

const STATUS_TEXT: Record<number, string> = { 400: "Bad Request", 408: "Request Timeout", 431: "Request Header Fields Too Large" };

/**
 * Node's own refusals (malformed request line or headers, headers too large, a request that took
 * too long) as OpenAI-shaped JSON instead of a bare status line. Mirrors Node's default
 * handler: answer only when nothing of a response has been written yet, then close.
 */
export function answerClientError(error: NodeJS.ErrnoException, socket: Socket): void {
  const httpMessage = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (error.code === "ECONNRESET" || !socket.writable || httpMessage?.headersSent) {
    socket.destroy();
    return;
  }
  const status =
    error.code === "HPE_HEADER_OVERFLOW"
      ? 431
      : error.code === "ERR_HTTP_REQUEST_TIMEOUT" || error.code === "ERR_HTTP_HEADERS_TIMEOUT"
        ? 408
        : 400;
  const message =
    status === 431
      ? "the request headers are too large"
      : status === 408
        ? "the request did not arrive in time (gateway.http.requestTimeoutMs / headersTimeoutMs)"
        : "the request is not valid HTTP";
  const code = status === 431 ? "headers_too_large" : status === 408 ? "request_timeout" : "bad_request";
  const body = JSON.stringify({ error: { message, type: "invalid_request_error", param: null, code } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${REQUEST_ID_HEADER}: ${newRequestId()}\r\nconnection: close\r\n\r\n${body}`,
  );
  // Whatever the client still sends is discarded; a client that never stops is cut.
  socket.resume();
  setTimeout(() => socket.destroy(), 1_000).unref();
}

/**
 * After an early answer (413, 401, …) to a request whose body is still arriving, keep reading and
 * discarding it, bounded in bytes and time, as nginx's lingering close does: closing with unread
 * data resets the connection, and the client never sees the answer.
 */
export function lingerOnUnreadBody(request: IncomingMessage, maxBytes = LINGER_MAX_BYTES, maxMs = LINGER_MAX_MS): void {
  if (request.complete || request.destroyed) return;
  let drained = 0;
  const cut = () => request.socket.destroy();
  const timer = setTimeout(cut, maxMs);
  timer.unref();
  const stop = () => clearTimeout(timer);
  request.on("data", (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > maxBytes) {
      stop();
      cut();
    }
  });
  request.once("end", stop);
  request.once("close", stop);
  request.resume();
}
