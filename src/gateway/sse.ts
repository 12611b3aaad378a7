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

const pending = new WeakMap<ServerResponse, { text: string }>();

function flush(response: ServerResponse): void {
  const entry = pending.get(response);
  if (!entry?.text) return;
  const text = entry.text;
  entry.text = "";
  if (!response.destroyed && !response.writableEnded) response.write(text);
}

/** Resolves when the client has drained what we wrote, or is gone; removes its listeners either way. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off("drain", done);
      response.off("close", done);
      resolve();
    };
    response.on("drain", done);
    response.on("close", done);
  });
}

/**
 * Queue one event. Events produced in the same turn of the event loop (an upstream read often
 * carries several) are joined and leave in one write when the loop moves on. When the client
 * reads slower than the model writes, the returned promise waits for it to drain (decided from
 * the socket's state now, so a drain that already happened is never waited for).
 */
export function writeEvent(response: ServerResponse, data: string, event?: string): Promise<void> | undefined {
  if (response.destroyed) return undefined;
  const line = event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`;
  let entry = pending.get(response);
  if (!entry) {
    entry = { text: "" };
    pending.set(response, entry);
  }
  if (!entry.text) setImmediate(flush, response);
  entry.text += line;
  // Synchronous in the common case: no promise per token.
  return response.writableNeedDrain ? drained(response) : undefined;
}

/** Write what is queued and end the stream (with a last line, such as `data: [DONE]`). */
export function endEventStream(response: ServerResponse, last = ""): void {
  const entry = pending.get(response);
  const text = (entry?.text ?? "") + last;
  if (entry) entry.text = "";
  if (!response.destroyed && !response.writableEnded) response.end(text);
}
