import type { IncomingMessage, ServerResponse } from "node:http";
import { InvalidRequestError, isOpenClawError, OpenClawError, RateLimitError, UpstreamError } from "../shared/errors.js";

export const DEFAULT_MAX_BODY_BYTES = 20 * 1024 * 1024;

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

function readBody(request: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        request.removeAllListeners("data");
        request.resume();
        reject(new PayloadTooLargeError(limit));
      } else chunks.push(chunk);
    });
    request.once("end", () =>
      resolve(chunks.length === 1 ? (chunks[0] as Buffer).toString("utf8") : Buffer.concat(chunks).toString("utf8")),
    );
    request.once("error", reject);
  });
}

/** Read and parse a JSON body, refusing more than `limit` bytes without buffering them. */
export async function readJsonBody(request: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(request.headers["content-length"]);
  if (declared > limit) throw new PayloadTooLargeError(limit);
  const text = await readBody(request, limit);
  if (!text.trim()) throw new InvalidRequestError("the request body is empty; send a JSON object", { code: "invalid_json" });
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError(`the request body is not valid JSON: ${(error as Error).message}`, { code: "invalid_json" });
  }
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  response.end(text);
}

/** Any error → an OpenAI-shaped body with the right status (and Retry-After / Allow). */
export function sendError(response: ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const known = isOpenClawError(error)
    ? error
    : new OpenClawError("internal error in the gateway", { status: 500, type: "server_error", code: "internal_error", cause: error });
  const headers: Record<string, string> = {};
  const retryAfter = known instanceof RateLimitError || known instanceof UpstreamError ? known.retryAfterSeconds : undefined;
  if (retryAfter !== undefined) headers["retry-after"] = String(Math.max(1, Math.ceil(retryAfter)));
  if (known instanceof MethodNotAllowedError) headers.allow = known.allow.join(", ");
  // A body we refused to read may still be arriving: close rather than keep a dirty connection.
  if (known instanceof PayloadTooLargeError) headers.connection = "close";
  sendJson(response, known.status, known.toBody(), headers);
}

/** The body must be a JSON object; routes read their fields from it. */
export function expectObject<T>(body: unknown): T {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidRequestError("the request body must be a JSON object", { code: "invalid_body" });
  }
  return body as T;
}

const clientSignals = new WeakMap<ServerResponse, AbortSignal>();

/**
 * A signal that fires when the client goes away before the response is complete. The server
 * creates it when the request arrives, so a client gone during routing is caught too; routes get
 * the same signal.
 */
export function abortOnClientClose(response: ServerResponse): AbortSignal {
  const existing = clientSignals.get(response);
  if (existing) return existing;
  const controller = new AbortController();
  if (response.destroyed) controller.abort();
  response.on("close", () => {
    if (!response.writableFinished) controller.abort();
  });
  clientSignals.set(response, controller.signal);
  return controller.signal;
}
