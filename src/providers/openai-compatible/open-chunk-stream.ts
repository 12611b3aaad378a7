import { UpstreamError } from "../../shared/errors.js";
import { scrubExact } from "../../shared/scrub.js";
import type { ChatChunk, ChatCompletion } from "../../shared/wire.js";
import type { SendRequest } from "../provider.js";
import { completionProblem } from "./chunk-check.js";
import { ChunkStream } from "./chunk-stream.js";
import type { RawResponse } from "./client.js";
import { completionToChunks } from "./completion-to-chunks.js";
import type { ExchangeControl, ExchangeRequest } from "./exchange.js";
import { upstreamStreamError } from "./upstream-error.js";

/** An error body is read up to this much (the message is in its first lines), then the request is aborted. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

export interface StreamHooks {
  providerId: string;
  parseEvent(data: string): ChatChunk | "done" | undefined;
  mapError(error: unknown): Error;
  httpError(status: number, headers: RawResponse["headers"], body: string): Error;
  /** A JSON answer to a stream request is read whole, up to this; past it the request is aborted. */
  maxBodyBytes: number;
  secrets: readonly string[];
  maxEventChars?: number | undefined;
  /** Longest wait for the next SSE event (see ChunkStreamOptions.eventTimeoutMs). */
  eventTimeoutMs?: number | undefined;
}

/** The first value of a header that may repeat. */
export const firstHeader = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** A JSON answer to a stream request: a completion becomes chunks; an error stays an error. */
function plainAnswer(hooks: StreamHooks, raw: string): ChatChunk[] {
  const text = scrubExact(raw, hooks.secrets);
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch {
    // Maybe SSE without the right content type after all.
    const decoded = text
      .split(/\r?\n/)
      .filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).trim());
    const chunks = decoded.map((data) => hooks.parseEvent(data)).filter((chunk): chunk is ChatChunk => typeof chunk === "object");
    if (chunks.length) return chunks;
    const what = /^\s*</.test(text) ? "an HTML page" : "something that is neither SSE nor JSON";
    throw new UpstreamError(`${hooks.providerId} answered a stream request with ${what}`, {
      status: 502,
      code: "upstream_bad_response",
      retryable: true,
    });
  }
  if (typeof payload === "object" && payload !== null && "error" in payload && !("choices" in payload))
    throw upstreamStreamError(hooks.providerId, payload);
  // The same check as a non-stream answer's: choices with readable messages, usage fit for accounting.
  const problem = completionProblem(payload);
  if (problem) {
    throw new UpstreamError(`${hooks.providerId} answered a stream request with ${problem}`, {
      status: 502,
      code: "upstream_bad_response",
      retryable: true,
    });
  }
  return completionToChunks(payload as ChatCompletion);
}

/**
 * Send a streaming request and resolve with its chunk stream once the answer is known to be a
 * stream (non-2xx answers reject with their error). SSE is relayed as it arrives; a server that
 * ignores `stream: true` and answers with JSON is read whole (bounded) and replayed as chunks.
 * Whatever is read whole is capped, and the upstream request aborted past the cap.
 */
export function openChunkStream(send: SendRequest, request: ExchangeRequest, hooks: StreamHooks): Promise<ChunkStream> {
  return new Promise<ChunkStream>((resolve, reject) => {
    let live: ChunkStream | undefined;
    let control: ExchangeControl | undefined;
    let plain: Buffer[] | undefined;
    let decided = false;
    let discarded = false;
    let bodyBytes = 0;
    let status = 0;
    let headers: RawResponse["headers"] = {};
    const errorBody: Buffer[] = [];
    // An error body is read within the event timeout too (a trickle would reset undici's per-read timer).
    let errorDeadline: NodeJS.Timeout | undefined;
    const stop = (error: Error) => {
      if (errorDeadline) clearTimeout(errorDeadline);
      discarded = true;
      plain = undefined;
      live = undefined;
      reject(error);
      control?.abort(error);
    };
    send(request, {
      onStart: (code, received, started) => {
        status = code;
        headers = received;
        control = started;
        if (code < 200 || code >= 300) {
          if (hooks.eventTimeoutMs)
            errorDeadline = setTimeout(
              () => stop(hooks.httpError(status, headers, Buffer.concat(errorBody).toString("utf8"))),
              hooks.eventTimeoutMs,
            );
          return;
        }
        live = new ChunkStream({
          control: started,
          providerId: hooks.providerId,
          parse: (data) => hooks.parseEvent(data),
          mapError: hooks.mapError,
          secrets: hooks.secrets,
          ...(hooks.maxEventChars ? { maxEventChars: hooks.maxEventChars } : {}),
          ...(hooks.eventTimeoutMs ? { eventTimeoutMs: hooks.eventTimeoutMs } : {}),
        });
        const type = String(firstHeader(received["content-type"]) ?? "");
        if (type.includes("text/event-stream")) {
          decided = true;
          resolve(live);
        } else if (type.includes("text/html")) {
          // An HTML page (a proxy's error page with a 200) is read whole and refused, never relayed.
          decided = true;
          plain = [];
        }
      },
      onData: (chunk) => {
        if (discarded) return;
        if (!live) {
          bodyBytes += chunk.length;
          if (bodyBytes <= MAX_ERROR_BODY_BYTES) return void errorBody.push(chunk);
          // The message is in the prefix; the rest is not worth waiting for.
          return stop(hooks.httpError(status, headers, Buffer.concat(errorBody).toString("utf8")) as Error);
        }
        if (!decided) {
          // No SSE content type: the body says. JSON (some servers ignore `stream: true`) and
          // markup are read whole; anything else is relayed live as SSE.
          const text = chunk.toString("utf8").trimStart();
          if (!text) {
            plain = [...(plain ?? []), chunk];
            return;
          }
          decided = true;
          if (!/^[{[<]/.test(text)) {
            for (const earlier of plain ?? []) live.push(earlier);
            plain = undefined;
            resolve(live);
            live.push(chunk);
            return;
          }
          plain = plain ?? [];
        }
        if (plain) {
          bodyBytes += chunk.length;
          if (bodyBytes > hooks.maxBodyBytes) {
            return stop(
              new UpstreamError(`${hooks.providerId} answered a stream request with a body over ${hooks.maxBodyBytes} bytes`, {
                status: 502,
                code: "upstream_body_too_large",
                retryable: true,
              }),
            );
          }
          plain.push(chunk);
        } else live.push(chunk);
      },
      onEnd: () => {
        if (errorDeadline) clearTimeout(errorDeadline);
        if (discarded) return;
        if (live && (plain || !decided)) {
          live.pushChunks(plainAnswer(hooks, Buffer.concat(plain ?? []).toString("utf8")));
          resolve(live);
        } else if (live) live.end();
        else if (status < 200 || status >= 300) reject(hooks.httpError(status, headers, Buffer.concat(errorBody).toString("utf8")));
      },
      onError: (error) => {
        if (errorDeadline) clearTimeout(errorDeadline);
        if (live && decided && !plain) live.fail(hooks.mapError(error));
        else reject(hooks.mapError(error));
      },
    });
  });
}
