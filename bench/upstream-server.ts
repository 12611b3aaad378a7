import { createServer, type ServerResponse } from "node:http";

/**
 * A lean OpenAI-compatible upstream for benchmarks: it answers at once, so what we measure is
 * the gateway. Runs in its own process. Prints its URL on stdout.
 * The model `bench-slow` streams instead one small event every SLOW_INTERVAL_MS, SLOW_EVENTS times
 * (argument 1, default 50: 10 s), as a model thinking slowly does, to hold many streams open.
 */
const SLOW_INTERVAL_MS = 200;
const SLOW_EVENTS = Number(process.argv[2] ?? 50);
const created = 1_785_077_000;
const completion = JSON.stringify({
  id: "chatcmpl-bench",
  object: "chat.completion",
  created,
  model: "bench-model",
  choices: [{ index: 0, message: { role: "assistant", content: "Hello! How can I help you today?" }, finish_reason: "stop" }],
  usage: { prompt_tokens: 12, completion_tokens: 9, total_tokens: 21 },
});
const chunk = (delta: object, finish: string | null) =>
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created, model: "bench-model", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const CHUNKS = 20;
const streamBody = [
  chunk({ role: "assistant", content: "" }, null),
  ...Array.from({ length: CHUNKS - 2 }, (_, i) => chunk({ content: ` tok${i}` }, null)),
  chunk({}, "stop"),
  `data: ${JSON.stringify({ id: "chatcmpl-bench", object: "chat.completion.chunk", created, model: "bench-model", choices: [], usage: { prompt_tokens: 12, completion_tokens: 18, total_tokens: 30 } })}\n\n`,
  "data: [DONE]\n\n",
];
const embedding = JSON.stringify({
  object: "list",
  data: [{ object: "embedding", index: 0, embedding: Array.from({ length: 384 }, (_, i) => Math.sin(i) / 10) }],
  model: "bench-embed",
  usage: { prompt_tokens: 8, total_tokens: 8 },
});
const models = JSON.stringify({
  object: "list",
  data: [{ id: "bench-model", object: "model", created, owned_by: "bench", context_length: 32768 }],
});

const server = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on("data", (data: Buffer) => chunks.push(data));
  request.on("end", () => {
    if (request.url?.endsWith("/models")) {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(models);
      return;
    }
    if (request.url?.endsWith("/embeddings")) {
      response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(embedding) });
      response.end(embedding);
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as { stream?: boolean; model?: string };
    if (body.model === "bench-slow") return slowStream(response);
    if (!body.stream) {
      response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(completion) });
      response.end(completion);
      return;
    }
    response.writeHead(200, { "content-type": "text/event-stream" });
    // Each event is its own write, as a model server sends tokens.
    for (const event of streamBody) response.write(event);
    response.end();
  });
});
function slowStream(response: ServerResponse): void {
  response.writeHead(200, { "content-type": "text/event-stream" });
  response.write(chunk({ role: "assistant", content: "" }, null));
  let sent = 0;
  const timer = setInterval(() => {
    if (++sent < SLOW_EVENTS) {
      response.write(chunk({ content: ` tok${sent}` }, null));
      return;
    }
    clearInterval(timer);
    response.end(streamBody.slice(-3).join(""));
  }, SLOW_INTERVAL_MS);
  response.once("close", () => clearInterval(timer));
}

server.keepAliveTimeout = 65_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") process.stdout.write(`http://127.0.0.1:${address.port}/v1\n`);
});
