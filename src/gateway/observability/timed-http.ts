import { IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders, ServerResponse } from "node:http";
import { performance } from "node:perf_hooks";
import { RequestTiming } from "./request-timing.js";

/** The gateway's own time in a response (milliseconds, not counting the upstream): on every response. */
export const OVERHEAD_HEADER = "x-openclaw-overhead-ms";

/** A request that carries its timing from the moment Node parsed its head. */
export class TimedRequest extends IncomingMessage {
  readonly timing = new RequestTiming();
}

/**
 * A response that says the gateway's overhead in its head. Every way a head is written (sendJson,
 * an event stream, an error, `end()` without `writeHead`) goes through `writeHead`, so one
 * override covers them all, with one clock read per response.
 */
export class TimedResponse<Request extends IncomingMessage = IncomingMessage> extends ServerResponse<Request> {
  override writeHead(
    statusCode: number,
    reasonOrHeaders?: string | OutgoingHttpHeaders | OutgoingHttpHeader[],
    maybeHeaders?: OutgoingHttpHeaders | OutgoingHttpHeader[],
  ): this {
    const timing = (this.req as { timing?: RequestTiming } | undefined)?.timing;
    if (timing && !this.headersSent) {
      const now = performance.now();
      timing.headAt = now;
      timing.statusCode = statusCode;
      this.setHeader(OVERHEAD_HEADER, (Math.round(timing.overheadMs(now) * 100) / 100).toString());
    }
    // Node's own overloads: (status, headers) or (status, reason, headers).
    return typeof reasonOrHeaders === "string"
      ? super.writeHead(statusCode, reasonOrHeaders, maybeHeaders)
      : super.writeHead(statusCode, reasonOrHeaders);
  }
}

/** `createServer` options that make every request and response timed (see server.ts). */
export const timedMessages = { IncomingMessage: TimedRequest, ServerResponse: TimedResponse } as const;
