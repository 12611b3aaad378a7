import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";

export const REQUEST_ID_HEADER = "x-request-id";

/** A client's id is echoed into headers, log lines and rows: only short, printable, unambiguous ones. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function newRequestId(): string {
  return `req_${randomUUID().replaceAll("-", "")}`;
}

/** The client's `x-request-id` when it is a sane one, else a new `req_…`. */
export function requestIdOf(request: Pick<IncomingMessage, "headers">): string {
  const sent = request.headers[REQUEST_ID_HEADER];
  return typeof sent === "string" && SANE_REQUEST_ID.test(sent) ? sent : newRequestId();
}

/**
 * A failure on our side (5xx) names its request, so a user's bug report leads to the log line.
 * A client's own mistake (4xx) reads better without it; the header carries it anyway.
 */
export function mentionRequestId(message: string, status: number, requestId: string | undefined): string {
  return status >= 500 && requestId ? `${message} (request id ${requestId})` : message;
}
