import type { Dispatcher } from "undici";
import { UpstreamError } from "../../shared/errors.js";
import type { ChatChunk, ChatCompletion } from "../../shared/wire.js";
import { ChunkStream } from "./chunk-stream.js";
import type { RawResponse } from "./client.js";
import { completionToChunks } from "./completion-to-chunks.js";
import { type ExchangeRequest, exchange } from "./exchange.js";
import { upstreamStreamError } from "./upstream-error.js";

/** A JSON answer to a stream request is read whole; past this it is not a chat answer. */
const MAX_PLAIN_BYTES = 32 * 1024 * 1024;

export interface StreamHooks {
  providerId: string;
  parseEvent(data: string): ChatChunk | "done" | undefined;
  mapError(error: unknown): Error;
  httpError(status: number, headers: RawResponse["headers"], body: string): Error;
}

/** The first value of a header that may repeat. */
export const firstHeader = (value: string | string[] | undefined) => (Array.isArray(value) ? value[0] : value);

/** A JSON answer to a stream request: a completion becomes chunks; an error stays an error. */
function plainAnswer(hooks: StreamHooks, text: string): ChatChunk[] {
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
    throw new UpstreamError(`${hooks.providerId} answered a stream request with something that is neither SSE nor JSON`, {
      status: 502,
      code: "upstream_bad_response",
    });
  }
  if (typeof payload === "object" && payload !== null && "error" in payload && !("choices" in payload))
    throw upstreamStreamError(hooks.providerId, payload);
  if (typeof payload !== "object" || payload === null || !Array.isArray((payload as ChatCompletion).choices)) {
    throw new UpstreamError(`${hooks.providerId} answered a stream request with JSON that is not a completion`, {
      status: 502,
      code: "upstream_bad_response",
    });
  }
  return completionToChunks(payload as ChatCompletion);
}

/**
 * Send a streaming request and resolve with its chunk stream once the answer is known to be a
 * stream (non-2xx answers reject with their error). SSE is relayed as it arrives; a server that
 * ignores `stream: true` and answers with JSON is read whole and replayed as chunks.
 */
export function openChunkStream(dispatcher: Dispatcher, request: ExchangeRequest, hooks: StreamHooks): Promise<ChunkStream> {
  return new Promise<ChunkStream>((resolve, reject) => {
    let live: ChunkStream | undefined;
    let plain: Buffer[] | undefined;
    let decided = false;
    let discarded = false;
    let plainBytes = 0;
    let status = 0;
    let headers: RawResponse["headers"] = {};
    const errorBody: Buffer[] = [];
    exchange(dispatcher, request, {
      onStart: (code, received, control) => {
        status = code;
        headers = received;
        if (code < 200 || code >= 300) return;
        live = new ChunkStream(control, (data) => hooks.parseEvent(data), hooks.mapError);
        if (String(firstHeader(received["content-type"]) ?? "").includes("text/event-stream")) {
          decided = true;
          resolve(live);
        }
      },
      onData: (chunk) => {
        if (discarded) return;
        if (!live) return void errorBody.push(chunk);
        if (!decided) {
          // No SSE content type: the body says. JSON (some servers ignore `stream: true`) is read
          // whole and replayed as chunks; anything else is relayed live as SSE.
          const text = chunk.toString("utf8").trimStart();
          if (!text) {
            plain = [...(plain ?? []), chunk];
            return;
          }
          decided = true;
          if (text.startsWith("{") || text.startsWith("[")) plain = [...(plain ?? []), chunk];
          else {
            for (const earlier of plain ?? []) live.push(earlier);
            plain = undefined;
            resolve(live);
            live.push(chunk);
            return;
          }
          return;
        }
        if (plain) {
          plainBytes += chunk.length;
          if (plainBytes > MAX_PLAIN_BYTES) {
            reject(
              new UpstreamError(`${hooks.providerId} answered a stream request with an oversized JSON body`, {
                status: 502,
                code: "upstream_bad_response",
              }),
            );
            plain = undefined;
            live = undefined;
            discarded = true;
            return;
          }
          plain.push(chunk);
        } else live.push(chunk);
      },
      onEnd: () => {
        if (live && (plain || !decided)) {
          try {
            live.pushChunks(plainAnswer(hooks, Buffer.concat(plain ?? []).toString("utf8")));
            resolve(live);
          } catch (error) {
            reject(error);
          }
        } else if (live) live.end();
        else if (status < 200 || status >= 300) reject(hooks.httpError(status, headers, Buffer.concat(errorBody).toString("utf8")));
      },
      onError: (error) => (live && decided && !plain ? live.fail(hooks.mapError(error)) : reject(hooks.mapError(error))),
    });
  });
}
