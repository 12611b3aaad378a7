import { once } from "node:events";
import type { ServerResponse } from "node:http";

export function startEventStream(response: ServerResponse): void {
  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  // No flushHeaders(): the headers leave with the first events, in the same write.
}

interface Pending {
  text: string;
  /** The last flush could not be written through: wait for the client to drain. */
  full: boolean;
}

const pending = new WeakMap<ServerResponse, Pending>();

function flush(response: ServerResponse): void {
  const entry = pending.get(response);
  if (!entry?.text) return;
  const text = entry.text;
  entry.text = "";
  if (!response.destroyed && !response.writableEnded) entry.full = !response.write(text);
}

/**
 * Queue one event. Events produced in the same turn of the event loop (an upstream read often
 * carries several) are joined and leave in one write when the loop moves on. When the client
 * reads slower than the model writes, wait for it to drain.
 */
export function writeEvent(response: ServerResponse, data: string, event?: string): Promise<void> | undefined {
  if (response.destroyed) return undefined;
  const line = event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
  let entry = pending.get(response);
  if (!entry) {
    entry = { text: "", full: false };
    pending.set(response, entry);
  }
  if (!entry.text) setImmediate(flush, response);
  entry.text += line;
  if (entry.full && !response.destroyed) {
    entry.full = false;
    return Promise.race([once(response, "drain"), once(response, "close")]).then(() => undefined);
  }
  // Synchronous in the common case: no promise per token.
  return undefined;
}

/** Write what is queued and end the stream (with a last line, such as `data: [DONE]`). */
export function endEventStream(response: ServerResponse, last = ""): void {
  const entry = pending.get(response);
  const text = (entry?.text ?? "") + last;
  if (entry) entry.text = "";
  if (!response.destroyed && !response.writableEnded) response.end(text);
}
