import { once } from "node:events";
import type { ServerResponse } from "node:http";

export function startEventStream(response: ServerResponse): void {
  response.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  response.flushHeaders();
}

/** Write one event, waiting for the client to drain when it reads slower than the model writes. */
export async function writeEvent(response: ServerResponse, data: string, event?: string): Promise<void> {
  if (response.destroyed) return;
  const ok = response.write(event ? `event: ${event}\ndata: ${data}\n\n` : `data: ${data}\n\n`);
  if (!ok && !response.destroyed) await Promise.race([once(response, "drain"), once(response, "close")]);
}
