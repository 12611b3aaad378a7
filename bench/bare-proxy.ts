import { once } from "node:events";
import { createServer } from "node:http";
import { Pool } from "undici";

/**
 * The ceiling for any Node gateway that accounts for usage: it reads and parses the request JSON
 * (a gateway must, to route on `model`), forwards it with undici over keep-alive connections, and
 * for a JSON answer parses it, renames `model` and re-serialises it (a gateway must, to read
 * `usage`); a stream is relayed byte for byte, with backpressure. No auth, routing, logging or
 * storage. Runs as its own process so its CPU time can be read from /proc like the gateway's.
 * Usage: bare-proxy.ts UPSTREAM_ORIGIN. Prints its URL on stdout.
 */
const origin = process.argv[2];
if (!origin) throw new Error("usage: bare-proxy.ts UPSTREAM_ORIGIN [--read-usage]");
/**
 * `--read-usage`: a second reference for streams, the least a relay that accounts for streamed
 * usage must add to the byte relay: split the SSE text into events and parse each one's JSON (the
 * usage comes in the last). The bytes still pass unchanged; nothing is checked, fixed or renamed.
 */
const READ_USAGE = process.argv[3] === "--read-usage";

class UsageReader {
  private readonly decoder = new TextDecoder();
  private rest = "";
  usage: unknown;

  push(bytes: Uint8Array): void {
    const text = this.rest + this.decoder.decode(bytes, { stream: true });
    let start = 0;
    for (let end = text.indexOf("\n\n"); end >= 0; end = text.indexOf("\n\n", start)) {
      const event = text.slice(start, end);
      start = end + 2;
      if (!event.startsWith("data: ") || event === "data: [DONE]") continue;
      const chunk = JSON.parse(event.slice(6)) as { usage?: unknown };
      if (chunk.usage) this.usage = chunk.usage;
    }
    this.rest = text.slice(start);
  }
}
// As many upstream connections as streams held (the slow-stream bench holds a thousand); the
// gateway's own cap is raised to match in the bench config.
const pool = new Pool(origin, { connections: 4096, keepAliveTimeout: 30_000 });

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", async () => {
    const abort = new AbortController();
    response.once("close", () => abort.abort());
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
      const upstream = await pool.request({
        method: "POST",
        path: request.url ?? "/",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
        signal: abort.signal,
      });
      const type = String(upstream.headers["content-type"] ?? "application/json");
      if (type.startsWith("application/json")) {
        const answer = (await upstream.body.json()) as Record<string, unknown>;
        answer.model = `proxy/${answer.model}`;
        const text = JSON.stringify(answer);
        response.writeHead(upstream.statusCode, { "content-type": type, "content-length": Buffer.byteLength(text) });
        response.end(text);
        return;
      }
      response.writeHead(upstream.statusCode, { "content-type": type });
      const usage = READ_USAGE ? new UsageReader() : undefined;
      for await (const chunk of upstream.body) {
        usage?.push(chunk);
        if (!response.write(chunk)) await once(response, "drain");
      }
      response.end();
    } catch (error) {
      if (response.headersSent) response.destroy();
      else {
        response.writeHead(502, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: { message: (error as Error).message, type: "upstream_error", param: null, code: null } }));
      }
    }
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") process.stdout.write(`http://127.0.0.1:${address.port}\n`);
});
process.once("SIGTERM", () => process.exit(0));
