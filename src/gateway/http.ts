import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import {
  InvalidRequestError,
  isOpenClawError,
  type OpenAIErrorBody,
  OpenClawError,
  RateLimitError,
  UpstreamError,
} from "../shared/errors.js";
import { DEFAULT_MAX_JSON_DEPTH, exceedsJsonDepth } from "../shared/json-depth.js";
import { mentionRequestId, REQUEST_ID_HEADER } from "./logging/request-id.js";

export const DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024;

/**
 * Longest client string used as an identifier (model, user, previous_response_id, the
 * x-openclaw-* headers): each reaches a cache key, a log line or a database row.
 */
export const MAX_IDENTIFIER_LENGTH = 256;

/** Top-level body fields the gateway uses as identifiers; the rest is forwarded and bounded by the body size. */
const IDENTIFIER_FIELDS = ["model", "user", "previous_response_id"] as const;

export class PayloadTooLargeError extends OpenClawError {
  constructor(limit: number) {
    super(`request body is larger than ${limit} bytes (gateway.http.maxBodyBytes)`, {
      status: 413,
      type: "invalid_request_error",
      code: "request_too_large",
    });
  }
}

export class MethodNotAllowedError extends OpenClawError {
  constructor(
    method: string,
    path: string,
    readonly allow: string[],
  ) {
    super(`${method} is not allowed on ${path}; use ${allow.join(", ")}`, {
      status: 405,
      type: "invalid_request_error",
      code: "method_not_allowed",
    });
  }
}

/** The client went away before its request was complete: nothing to answer, nothing unexpected. */
export class ClientAbortError extends OpenClawError {
  constructor() {
    super("the client closed the connection before its request was complete", {
      status: 499,
      type: "invalid_request_error",
      code: "client_closed_request",
    });
  }
}

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // The rest is drained (bounded) by the server once the 413 is sent, so the client can read it.
        request.off("data", onData);
        request.pause();
        reject(new PayloadTooLargeError(limit));
      } else chunks.push(chunk);
    };
    request.on("data", onData);
    request.once("end", () =>
      resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8")),
    );
    // Node reports a client gone mid-upload as an error ("aborted") or only as a close.
    request.once("error", () => reject(new ClientAbortError()));
    request.once("close", () => {
      if (!request.complete) reject(new ClientAbortError());
    });
  });
}

/** Per-request body settings, attached by the server so routes keep calling `readJsonBody(request, maxBodyBytes)`. */
const bodySettings = new WeakMap<IncomingMessage, { maxJsonDepth: number }>();

export function setBodySettings(request: IncomingMessage, settings: { maxJsonDepth: number }): void {
  bodySettings.set(request, settings);
}

/** Bytes of each request's JSON body, for a key's TPM estimate (no second pass over the body). */
const bodySizes = new WeakMap<IncomingMessage, number>();

export function bodyBytesOf(request: IncomingMessage): number {
  return bodySizes.get(request) ?? 0;
}

export function checkIdentifiers(body: unknown): void {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return;
  for (const field of IDENTIFIER_FIELDS) {
    const value = (body as Record<string, unknown>)[field];
    if (typeof value === "string" && value.length > MAX_IDENTIFIER_LENGTH) {
      throw new InvalidRequestError(`${field} is longer than ${MAX_IDENTIFIER_LENGTH} characters`, {
        param: field,
        code: "string_above_max_length",
      });
    }
  }
}

/**
 * Read and parse a JSON body, refusing more than `limit` bytes without buffering them, nesting
 * deeper than `gateway.http.maxJsonDepth` before parsing, and identifier fields that are too long.
 */
export async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(request.headers["content-length"]);
  if (declared > limit) throw new PayloadTooLargeError(limit);
  const text = await readBody(request, limit);
  bodySizes.set(request, text.length);
  if (!text.trim()) throw new InvalidRequestError("the request body is empty; send a JSON object", { code: "invalid_json" });
  const maxDepth = bodySettings.get(request)?.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
  if (exceedsJsonDepth(text, maxDepth)) {
    throw new InvalidRequestError(`the request body nests deeper than ${maxDepth} levels (gateway.http.maxJsonDepth)`, {
      code: "json_too_deep",
    });
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError(`the request body is not valid JSON: ${(error as Error).message}`, { code: "invalid_json" });
  }
  checkIdentifiers(body);
  return body;
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** The OpenAI-shaped body of an error; a failure on our side names the request (see mentionRequestId). */
export function errorBody(error: OpenClawError, requestId: string | undefined): OpenAIErrorBody {
  const body = error.toBody();
  body.error.message = mentionRequestId(body.error.message, error.status, requestId);
  return body;
}

/** Any error → an OpenAI-shaped body with the right status (and Retry-After / Allow), naming the request's id. */
export function sendError(response: ServerResponse, error: unknown): void {
  if (response.destroyed) return;
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const known = isOpenClawError(error)
    ? error
    : new OpenClawError("internal error in the gateway", { status: 500, type: "server_error", code: "internal_error", cause: error });
  const headers: Record<string, string> = known instanceof RateLimitError ? { ...known.headers } : {};
  const retryAfter = known instanceof RateLimitError || known instanceof UpstreamError ? known.retryAfterSeconds : undefined;
  if (retryAfter !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfter)));
  if (known instanceof MethodNotAllowedError) headers.allow = known.allow.join(", ");
  const requestId = response.getHeader(REQUEST_ID_HEADER);
  sendJson(response, known.status, errorBody(known, typeof requestId === "string" ? requestId : undefined), headers);
}

/** The body must be a JSON object; routes read their fields from it. */
export function expectObject<T>(body: unknown): T {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidRequestError("the request body must be a JSON object", { code: "invalid_body" });
  }
  return body as T;
}

const clientSignals = new WeakMap<ServerResponse, AbortSignal>();

/** A connection's abort signal, and its latest response (responses on one connection finish in order). */
interface ConnectionAbort {
  controller: AbortController;
  latest: ServerResponse;
}
const connectionAborts = new WeakMap<Socket, ConnectionAbort>();

/**
 * A signal that fires when the client goes away before the response is complete. The server
 * creates it when the request arrives, so a client gone during routing is caught too; routes get
 * the same signal. It is made once per connection, not per request (an AbortController cost more
 * than hashing the bearer token): requests on a keep-alive connection follow one another, a
 * response is only cut by closing its connection, and the connection closing with its latest
 * response unfinished is exactly "the client went away".
 */
export function abortOnClientClose(response: ServerResponse): AbortSignal {
  const existing = clientSignals.get(response);
  if (existing) return existing;
  const socket = response.socket;
  let signal: AbortSignal;
  if (!socket || response.destroyed || socket.destroyed) {
    const controller = new AbortController();
    if (response.destroyed || socket?.destroyed) controller.abort();
    signal = controller.signal;
  } else {
    let connection = connectionAborts.get(socket);
    if (!connection) {
      const state: ConnectionAbort = { controller: new AbortController(), latest: response };
      socket.once("close", () => {
        if (!state.latest.writableFinished) state.controller.abort();
      });
      connectionAborts.set(socket, state);
      connection = state;
    }
    connection.latest = response;
    signal = connection.controller.signal;
  }
  clientSignals.set(response, signal);
  return signal;
}
