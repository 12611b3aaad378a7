import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { ResponsesWS } from "openai/resources/responses/ws";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { readTable } from "./helpers/ledger.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";
import { connectWs, type WsEvent } from "./helpers/ws-client.js";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

type ChatBody = { model: string; stream?: boolean; messages: Array<Record<string, unknown>> };

const chunk = (model: string, delta: Record<string, unknown>, finish: string | null = null) => ({
  id: "chatcmpl-ws",
  object: "chat.completion.chunk",
  created: 1_785_077_000,
  model,
  choices: [{ index: 0, delta, finish_reason: finish }],
});
const usage = (model: string) => ({
  ...chunk(model, {}),
  choices: [],
  usage: { prompt_tokens: 20, completion_tokens: 7, total_tokens: 27 },
});

/** A streamed tool call, arguments split over two chunks, optionally after some text. */
const toolCallStream = (model: string, callId: string, city: string, text?: string) => [
  ...(text ? [chunk(model, { role: "assistant", content: text })] : []),
  chunk(model, {
    ...(text ? {} : { role: "assistant", content: null }),
    tool_calls: [{ index: 0, id: callId, type: "function", function: { name: "get_weather", arguments: "" } }],
  }),
  chunk(model, { tool_calls: [{ index: 0, function: { arguments: '{"city":' } }] }),
  chunk(model, { tool_calls: [{ index: 0, function: { arguments: `"${city}"}` } }] }),
  chunk(model, {}, "tool_calls"),
  usage(model),
];

/** Held streams: the fake writes one chunk, then waits for the test. */
let hold: { release: () => void; closed: Promise<void> } | undefined;

function heldStream(model: string) {
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let markClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => {
    markClosed = resolve;
  });
  hold = { release, closed };
  return {
    respond: async (response: ServerResponse) => {
      let finished = false;
      response.on("close", () => {
        if (!finished) markClosed();
      });
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(`data: ${JSON.stringify(chunk(model, { role: "assistant", content: "Hold" }))}\n\n`);
      await released;
      if (response.destroyed) return;
      for (const event of [chunk(model, { content: " on" }, "stop"), usage(model)]) response.write(`data: ${JSON.stringify(event)}\n\n`);
      finished = true;
      response.end("data: [DONE]\n\n");
    },
  };
}

before(async () => {
  chutes = await startFakeChutes();
  // The model asks for Paris' weather, then Rome's, then answers: one step per tool result it has.
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as ChatBody;
    const last = body.messages.at(-1) as { role: string; content?: unknown };
    if (last.content === "hold") return heldStream(body.model);
    if (last.content === "mixed") return { events: toolCallStream(body.model, "call_mixed", "Oslo", "Let me check.") };
    const results = body.messages.filter((message) => message.role === "tool").length;
    if (results === 0) return { events: toolCallStream(body.model, "call_paris", "Paris") };
    if (results === 1) return { events: toolCallStream(body.model, "call_rome", "Rome") };
    return { events: wordStream(["Paris 18C,", " Rome 24C"], body.model) };
  });
  state = await createTestState({ CHUTES_API_KEY: "cpk_responses_ws_test_key_0000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
  });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

const tools = [
  { type: "function", name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } }, strict: false },
];
const chatRequests = () => chutes.requests.filter((request) => request.path === "/v1/chat/completions");
const completed = (events: WsEvent[]) => {
  const last = events.at(-1) as WsEvent;
  assert.equal(last.type, "response.completed", JSON.stringify(last));
  return last.response;
};
const ledgerCount = () =>
  readTable<{ n: number }>(state.stateDir, "SELECT COUNT(*) AS n FROM requests WHERE endpoint = 'responses'")[0]?.n ?? 0;

test("three turns of a function-call loop on one socket with store: false continue from the connection's cache", async () => {
  const before = ledgerCount();
  const client = await connectWs(gateway.url);
  const first = completed(await client.create({ model: "openclaw", store: false, tools, input: "Weather in Paris and Rome?" }));
  assert.equal(first.store, false);
  assert.deepEqual(
    first.output.map((item: WsEvent) => [item.type, item.call_id, item.arguments]),
    [["function_call", "call_paris", '{"city":"Paris"}']],
  );
  const second = completed(
    await client.create({
      model: "openclaw",
      store: false,
      tools,
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: "call_paris", output: "18C" }],
    }),
  );
  assert.equal(second.output[0].call_id, "call_rome");
  assert.equal(second.previous_response_id, first.id);
  const third = completed(
    await client.create({
      model: "openclaw",
      store: false,
      tools,
      previous_response_id: second.id,
      input: [{ type: "function_call_output", call_id: "call_rome", output: "24C" }],
    }),
  );
  assert.equal(third.output[0].content[0].text, "Paris 18C, Rome 24C");

  // The third call carried the whole loop, rebuilt from the connection's memory.
  const messages = (chatRequests().at(-1)?.body as ChatBody | undefined)?.messages ?? [];
  assert.deepEqual(
    messages.map((message) => [
      message.role,
      message.tool_call_id ?? (message.tool_calls as WsEvent[] | undefined)?.[0]?.id ?? message.content,
    ]),
    [
      ["user", "Weather in Paris and Rome?"],
      ["assistant", "call_paris"],
      ["tool", "call_paris"],
      ["assistant", "call_rome"],
      ["tool", "call_rome"],
    ],
  );
  // store: false kept nothing the HTTP API can return.
  const stored = await fetch(`${gateway.url}/v1/responses/${third.id}`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
  assert.equal(stored.status, 404);
  // One ledger row per response.create, streamed, with no session (private by default).
  await waitUntil(() => ledgerCount() >= before + 3, { what: "three ledger rows" });
  const rows = readTable<{ status: string; stream: number; session_key: string | null; prompt_tokens: number }>(
    state.stateDir,
    "SELECT * FROM requests WHERE endpoint = 'responses' ORDER BY id DESC LIMIT 3",
  );
  assert.deepEqual(
    rows.map((row) => [row.status, row.stream, row.session_key, row.prompt_tokens]),
    [
      ["ok", 1, null, 5],
      ["ok", 1, null, 20],
      ["ok", 1, null, 20],
    ],
  );
  assert.equal(ledgerCount(), before + 3);
  client.ws.close();
});

/** Ids and clocks differ between two runs of the same request; the rest must not. */
function normalise(value: unknown): unknown {
  if (typeof value === "string") return value.replace(/^(resp|msg|fc)_[0-9a-f]{48}$/, "$1_*");
  if (Array.isArray(value)) return value.map(normalise);
  if (value && typeof value === "object") {
    const entries = Object.entries(value).filter(([key]) => key !== "created_at" && key !== "completed_at");
    return Object.fromEntries(entries.map(([key, field]) => [key, normalise(field)]));
  }
  return value;
}

async function sseEvents(body: Record<string, unknown>): Promise<WsEvent[]> {
  const response = await fetch(`${gateway.url}/v1/responses`, {
    method: "POST",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ ...body, stream: true }),
  });
  assert.equal(response.status, 200);
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((block) => block.includes("data: "))
    .map((block) => JSON.parse(block.slice(block.indexOf("data: ") + 6)));
}

test("for the same request the socket's events equal the SSE stream's, event for event", async () => {
  const request = { model: "openclaw", tools, instructions: "Be brief.", metadata: { run: "7" }, input: "mixed" };
  const sse = await sseEvents(request);
  const client = await connectWs(gateway.url);
  const ws = await client.create(request);
  client.ws.close();
  assert.deepEqual(
    ws.map((event) => event.type),
    sse.map((event) => event.type),
  );
  assert.ok(sse.some((event) => event.type === "response.output_text.delta"));
  assert.ok(sse.some((event) => event.type === "response.function_call_arguments.delta"));
  assert.deepEqual(normalise(ws), normalise(sse));
});

test("an unknown previous_response_id is an error event with previous_response_not_found; the socket stays usable", async () => {
  const client = await connectWs(gateway.url);
  const events = await client.create({ model: "openclaw", previous_response_id: "resp_nowhere", input: "hi" });
  assert.deepEqual(events, [
    {
      type: "error",
      status: 400,
      error: {
        type: "invalid_request_error",
        code: "previous_response_not_found",
        message: "Previous response with id 'resp_nowhere' not found.",
        param: "previous_response_id",
      },
    },
  ]);
  // A stored response (store defaults to true) continues from the store on another connection.
  const stored = completed(await client.create({ model: "openclaw", input: "Weather in Paris?", tools }));
  const other = await connectWs(gateway.url);
  const next = completed(
    await other.create({
      model: "openclaw",
      tools,
      previous_response_id: stored.id,
      input: [{ type: "function_call_output", call_id: "call_paris", output: "18C" }],
    }),
  );
  assert.equal(next.output[0].call_id, "call_rome");
  client.ws.close();
  other.ws.close();
});

test("a second response.create while one is in flight is refused with response_already_in_flight", async () => {
  const client = await connectWs(gateway.url);
  client.send({ type: "response.create", model: "openclaw", input: "hold" });
  await client.collect(0, (event) => event.type === "response.output_text.delta");
  const from = client.events.length;
  client.send({ type: "response.create", model: "openclaw", input: "Weather in Paris?" });
  const [refused] = await client.collect(from, (event) => event.type === "error");
  assert.equal(refused?.error.code, "response_already_in_flight");
  hold?.release();
  const first = await client.collect(0, (event) => event.type === "response.completed");
  assert.equal(first.at(-1)?.response.output[0].content[0].text, "Hold on");
  // Only one error, and the first response was not disturbed by the refused one.
  assert.equal(client.events.filter((event) => event.type === "error").length, 1);
  assert.equal(client.events.filter((event) => event.type === "response.created").length, 1);
  // Once it has ended, the next one runs.
  completed(await client.create({ model: "openclaw", input: "Weather in Paris?", tools }));
  client.ws.close();
});

test("a client that closes mid-response aborts the upstream call, and the turn is recorded as aborted", async () => {
  const client = await connectWs(gateway.url);
  client.send({ type: "response.create", model: "openclaw", input: "hold" });
  await client.collect(0, (event) => event.type === "response.output_text.delta");
  const upstreamClosed = hold?.closed;
  client.ws.close();
  await upstreamClosed;
  await waitUntil(
    () => readTable<{ status: string }>(state.stateDir, "SELECT status FROM requests ORDER BY id DESC LIMIT 1")[0]?.status === "aborted",
    { what: "the aborted ledger row" },
  );
});

test("invalid JSON, unknown event types and background are invalid_request_error events", async () => {
  const client = await connectWs(gateway.url);
  client.ws.send("{not json");
  client.send({ type: "response.cancel" });
  client.send({ type: "response.create", model: "openclaw", input: "hi", background: true });
  const events = await client.collect(0, (event) => event.error?.param === "background");
  assert.deepEqual(
    events.map((event) => [event.type, event.status, event.error.type, event.error.code]),
    [
      ["error", 400, "invalid_request_error", "invalid_json"],
      ["error", 400, "invalid_request_error", "unknown_event_type"],
      ["error", 400, "invalid_request_error", "invalid_value"],
    ],
  );
  client.ws.close();
});

test("the official openai SDK's ResponsesWS drives a turn through the gateway", async () => {
  const openai = gateway.client();
  const socket = new ResponsesWS(openai);
  const types: string[] = [];
  let text = "";
  socket.send({ type: "response.create", model: "openclaw", input: "Weather in Paris?", tools: tools as never, store: false });
  for await (const message of socket) {
    if (message.type === "error") throw message.error;
    if (message.type !== "message") continue;
    types.push(message.message.type);
    if (message.message.type === "response.completed") {
      text = JSON.stringify(message.message.response.output);
      break;
    }
  }
  socket.close();
  assert.equal(types[0], "response.created");
  assert.equal(types.at(-1), "response.completed");
  assert.match(text, /call_paris/);
});

test("the upgrade's x-openclaw-session-key keeps each turn in that session, as the HTTP path does; store: false keeps no content", async () => {
  const client = await connectWs(gateway.url, { headers: { "x-openclaw-session-key": "ws-session" } });
  completed(await client.create({ model: "openclaw", input: "Weather in Paris?", tools }));
  completed(await client.create({ model: "openclaw", input: "secret-ws-marker", tools, store: false }));
  client.ws.close();
  const turns = await waitUntil(
    () => {
      const rows = readTable<{ input: string; endpoint: string }>(
        state.stateDir,
        "SELECT input, endpoint FROM turns WHERE session_key = 'ws-session' ORDER BY id",
      );
      return rows.length === 2 ? rows : undefined;
    },
    { what: "two session turns" },
  );
  assert.deepEqual(
    turns.map((turn) => [turn.endpoint, JSON.parse(turn.input)]),
    [
      ["responses", [{ role: "user", content: "Weather in Paris?" }]],
      ["responses", []],
    ],
  );
});
