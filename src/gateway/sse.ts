import { once } from "node:events";
import type { ServerResponse } from "node:http";

export function startEventStream(response: ServerResponse): void {
  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  // No flushHeaders(): the headers leave with the first event, in the same write.
}

const corked = new WeakSet<ServerResponse>();

/**
 * Write one event. Events produced in the same turn of the event loop (an upstream read often
 * carries several) leave in one write: the socket is corked until the loop moves on. When the
 * client reads slower than the model writes, wait for it to drain.
 */
export async function writeEvent(response: ServerResponse, data: string, event?: string): Promise<void> {
  if (response.destroyed) return;
  if (!corked.has(response)) {
    corked.add(response);
    response.cork();
    setImmediate(() => {
      corked.delete(response);
      response.uncork();
    });
  }
  const ok = response.write(event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`);
  if (!ok && !response.destroyed) await Promise.race([once(response, "drain"), once(response, "close")]);
}
