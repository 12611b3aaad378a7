import { readFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { FIXTURES } from "./cli.js";

/**
 * A real HTTP server on 127.0.0.1 standing in for Chutes / Hugging Face / any
 * OpenAI-compatible upstream. It answers with the shapes in test/fixtures and lets a
 * test script failures (status codes, bad bodies, hangs, dropped connections, mid-stream errors).
 */
export interface FakeReply {
  status?: number;
  headers?: Record<string, string>;
  /** A JSON value, or a raw string sent as is. */
  body?: unknown;
  /** Streamed SSE: each item is one event's data (objects are JSON-encoded), or a raw line when it starts with "raw:". */
  events?: unknown[];
  /** Pause before each streamed event. */
  eventDelayMs?: number;
  /** Pause before answering. */
  delayMs?: number;
  /** Never answer. */
  hang?: boolean;
  /** Drop the connection without answering. */
  destroy?: boolean;
  /** Write the answer yourself: raw bytes, bodies without end, streams without `[DONE]`. */
  respond?: (response: ServerResponse, request: IncomingMessage) => void | Promise<void>;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: unknown;
}

export type Handler = (request: RecordedRequest) => FakeReply | Promise<FakeReply>;

export interface FakeUpstream {
  /** Base URL including `/v1`. */
  url: string;
  origin: string;
  requests: RecordedRequest[];
  routes: Map<string, Handler>;
  /** Streams whose client went away before the last event. */
  abortedStreams: number;
  /** Resolves when the next stream is aborted by the client. */
  nextAbort(): Promise<void>;
  route(methodAndPath: string, handler: Handler | FakeReply): void;
  close(): Promise<void>;
}

export function fixtureText(name: string): string {
  const file = path.join(FIXTURES, name);
  try {
    return readFileSync(file, "utf8");
  } catch {
    throw new Error(`fixture ${file} is missing from test/fixtures`);
  }
}

export function fixtureJson<T = unknown>(name: string): T {
  return JSON.parse(fixtureText(name)) as T;
}

/** The `data:` payloads of an SSE fixture, `[DONE]` excluded. */
export function fixtureEvents(name: string): unknown[] {
  return fixtureText(name)
    .split(/\n\n+/)
    .map((block) => block.replace(/^data: /, "").trim())
    .filter((data) => data && data !== "[DONE]")
    .map((data) => JSON.parse(data));
}

/** A chat stream that says `words` one chunk at a time, with a final usage chunk. */
export function wordStream(words: string[], model = "fake-model"): unknown[] {
  const base = { id: "chatcmpl-fake", object: "chat.completion.chunk", created: 1_785_077_000, model };
  return [
    { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] },
    ...words.map((word) => ({ ...base, choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })),
    { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    { ...base, choices: [], usage: { prompt_tokens: 5, completion_tokens: words.length, total_tokens: 5 + words.length } },
  ];
}

export function completion(text: string, model = "fake-model") {
  return {
    id: "chatcmpl-fake",
    object: "chat.completion",
    created: 1_785_077_000,
    model,
    choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
    usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
  };
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString("utf8");
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export async function startFakeUpstream(options: { prefix?: string } = {}): Promise<FakeUpstream> {
  const prefix = options.prefix ?? "/v1";
  const routes = new Map<string, Handler>();
  const requests: RecordedRequest[] = [];
  const abortWaiters: Array<() => void> = [];
  const sockets = new Set<import("node:net").Socket>();
  const state = { abortedStreams: 0 };

  const send = async (reply: FakeReply, request: IncomingMessage, response: ServerResponse) => {
    if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs));
    if (reply.hang) return;
    if (reply.destroy) {
      request.socket.destroy();
      return;
    }
    if (reply.respond) return reply.respond(response, request);
    if (reply.events) {
      response.writeHead(reply.status ?? 200, { "content-type": "text/event-stream", "cache-control": "no-cache", ...reply.headers });
      let finished = false;
      response.on("close", () => {
        if (!finished) {
          state.abortedStreams++;
          for (const resolve of abortWaiters.splice(0)) resolve();
        }
      });
      for (const event of reply.events) {
        if (reply.eventDelayMs) await new Promise((resolve) => setTimeout(resolve, reply.eventDelayMs));
        if (response.destroyed) return;
        if (typeof event === "string" && event.startsWith("raw:")) response.write(`${event.slice(4)}\n\n`);
        else response.write(`data: ${typeof event === "string" ? event : JSON.stringify(event)}\n\n`);
      }
      response.write("data: [DONE]\n\n");
      finished = true;
      response.end();
      return;
    }
    const body = reply.body === undefined ? "" : typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
    const type = typeof reply.body === "string" ? "text/plain" : "application/json";
    response.writeHead(reply.status ?? 200, { "content-type": type, ...reply.headers });
    response.end(body);
  };

  const server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const recorded: RecordedRequest = {
      method: request.method ?? "GET",
      path: url.pathname + url.search,
      headers: request.headers,
      body: await readBody(request),
    };
    requests.push(recorded);
    const local = url.pathname.startsWith(prefix) ? url.pathname.slice(prefix.length) : url.pathname;
    const handler = routes.get(`${request.method} ${local}`) ?? routes.get(`${request.method} *`);
    if (!handler) {
      response.writeHead(404, { "content-type": "application/json" });
      response.end(JSON.stringify({ error: { message: `no route ${request.method} ${url.pathname}`, type: "not_found" } }));
      return;
    }
    await send(await handler(recorded), request, response);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}${prefix}`,
    origin,
    requests,
    routes,
    get abortedStreams() {
      return state.abortedStreams;
    },
    nextAbort: () => new Promise<void>((resolve) => abortWaiters.push(resolve)),
    route(methodAndPath, handler) {
      routes.set(methodAndPath, typeof handler === "function" ? handler : () => handler);
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A fake Chutes: `/v1/models` from the fixture, chat streaming words. */
export async function startFakeChutes(): Promise<FakeUpstream> {
  const models = fixtureJson("chutes-models.json");
  const upstream = await startFakeUpstream();
  upstream.route("GET /models", { body: models });
  upstream.route("POST /chat/completions", (request) => {
    const body = request.body as { stream?: boolean; model: string };
    return body.stream
      ? { events: wordStream(["Hello", " from", " Chutes"], body.model) }
      : { body: completion("Hello from Chutes", body.model) };
  });
  return upstream;
}

/** A fake Hugging Face router: `/v1/models` from the fixture. */
export async function startFakeHuggingFace(): Promise<FakeUpstream> {
  const models = fixtureJson("hf-models.json");
  const upstream = await startFakeUpstream();
  upstream.route("GET /models", { body: models });
  upstream.route("POST /chat/completions", (request) => {
    const body = request.body as { stream?: boolean; model: string };
    return body.stream ? { events: wordStream(["Hi", " from", " HF"], body.model) } : { body: completion("Hi from HF", body.model) };
  });
  return upstream;
}
