import { InvalidRequestError, isOpenClawError, OpenClawError } from "../../shared/errors.js";
import { exceedsJsonDepth } from "../../shared/json-depth.js";
import { checkIdentifiers } from "../http.js";
import type { ResponsesRequest } from "../responses/request-to-chat.js";
import { validateResponsesRequest } from "../responses/run-response.js";

/**
 * An `error` event as OpenAI's WebSocket mode sends it: the HTTP status the same failure would
 * have had, and the usual error object.
 */
export function errorEvent(error: unknown): { type: "error"; status: number; error: Record<string, unknown> } {
  const known = isOpenClawError(error)
    ? error
    : new OpenClawError("internal error in the gateway", { status: 500, type: "server_error", code: "internal_error" });
  return { type: "error", status: known.status, error: known.toBody().error };
}

export const alreadyInFlight = () =>
  new InvalidRequestError("a response is already in flight on this connection: wait for its last event, or open another connection", {
    code: "response_already_in_flight",
  });

/** The socket is about to close (too old, or the gateway stops): the client should open another. */
export const closingError = (reason: string) =>
  new OpenClawError(`this connection is closing (${reason}): open a new one`, {
    status: 503,
    type: "server_error",
    code: "websocket_connection_closing",
  });

export const previousNotFound = (id: string) =>
  new InvalidRequestError(`Previous response with id '${id}' not found.`, {
    code: "previous_response_not_found",
    param: "previous_response_id",
  });

/**
 * A client frame → the body of `POST /v1/responses`. Only `response.create` exists; `stream` is
 * implied and dropped, `background` is refused (OpenAI's rules for this mode).
 */
export function parseClientEvent(data: Buffer | string, isBinary: boolean, maxJsonDepth: number): ResponsesRequest {
  if (isBinary) throw new InvalidRequestError("send events as JSON text frames, not binary ones", { code: "invalid_json" });
  const text = typeof data === "string" ? data : data.toString("utf8");
  if (exceedsJsonDepth(text, maxJsonDepth)) {
    throw new InvalidRequestError(`the event nests deeper than ${maxJsonDepth} levels (gateway.http.maxJsonDepth)`, {
      code: "json_too_deep",
    });
  }
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch (error) {
    throw new InvalidRequestError(`the event is not valid JSON: ${(error as Error).message}`, { code: "invalid_json" });
  }
  if (typeof event !== "object" || event === null || Array.isArray(event))
    throw new InvalidRequestError("an event must be a JSON object with a type", { code: "invalid_event", param: "type" });
  const { type, stream: _stream, background, ...body } = event as Record<string, unknown>;
  if (type !== "response.create") {
    throw new InvalidRequestError(`unknown event type ${JSON.stringify(type)?.slice(0, 64)}: the only client event is response.create`, {
      code: "unknown_event_type",
      param: "type",
    });
  }
  if (background === true)
    throw new InvalidRequestError("background is not supported over WebSocket", { code: "invalid_value", param: "background" });
  checkIdentifiers(body);
  return { ...validateResponsesRequest(body), stream: true };
}
