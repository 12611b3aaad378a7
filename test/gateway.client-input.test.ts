import assert from "node:assert/strict";
import { connect } from "node:net";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, jsonOf, type RunningGateway, requestLogs, startGateway } from "./helpers/gateway.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

before(async () => {
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { model: string; stream?: boolean };
    return body.stream ? { events: wordStream(["ok"], body.model) } : { body: completion("ok", body.model) };
  });
});
after(() => chutes.close());
beforeEach(async () => {
  state = await createTestState({ CHUTES_API_KEY: "cpk_client_input_key_00000000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
    gateway: { http: { maxJsonDepth: 32 } },
  });
  gateway = await startGateway(state);
});
afterEach(async () => {
  await gateway.stop();
  await state.cleanup();
});

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${gateway.url}${path}`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json", ...headers },
  });

/** Calls the gateway made to the model (discovery's GET /models excluded). */
const posts = () => chutes.requests.filter((request) => request.method === "POST").length;

const hi = [{ role: "user", content: "hi" }];

/** Poll until the gateway has logged `count` request lines. */
async function logged(count: number): Promise<Array<Record<string, unknown>>> {
  for (;;) {
    const logs = requestLogs(gateway);
    if (logs.length >= count) return logs;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test("identifiers longer than 256 characters are a 400 naming the field, and never reach the log", async () => {
  const long = "m".repeat(100_000);
  const cases: Array<[string, unknown, Record<string, string>, string]> = [
    ["/v1/chat/completions", { model: `chutes/${long}`, messages: hi }, {}, "model"],
    ["/v1/chat/completions", { model: "openclaw", messages: hi, user: long }, {}, "user"],
    ["/v1/responses", { model: "openclaw", input: "hi", previous_response_id: `resp_${long}` }, {}, "previous_response_id"],
    ["/v1/embeddings", { model: `chutes/${long}`, input: "hi" }, {}, "model"],
    ["/v1/chat/completions", { model: "openclaw", messages: hi }, { "x-openclaw-agent-id": long.slice(0, 5000) }, "x-openclaw-agent-id"],
    [
      "/v1/chat/completions",
      { model: "openclaw", messages: hi },
      { "x-openclaw-session-key": long.slice(0, 5000) },
      "x-openclaw-session-key",
    ],
    [
      "/v1/chat/completions",
      { model: "openclaw", messages: hi },
      { "x-openclaw-message-channel": long.slice(0, 5000) },
      "x-openclaw-message-channel",
    ],
  ];
  const upstreamCalls = posts();
  for (const [path, body, headers, param] of cases) {
    const response = await post(path, body, headers);
    assert.equal(response.status, 400, `${param} on ${path}`);
    const { error } = await jsonOf(response);
    assert.equal(error.param, param);
    assert.equal(error.code, "string_above_max_length");
    assert.ok(error.message.length < 200);
  }
  assert.equal(posts(), upstreamCalls, "no upstream call for a refused request");
  await logged(cases.length);
  assert.ok(!gateway.stdout().includes("m".repeat(300)), "the long value is not logged");
  // A 256-character user is fine.
  assert.equal((await post("/v1/chat/completions", { model: "openclaw", messages: hi, user: "u".repeat(256) })).status, 200);
});

function nested(depth: number): unknown {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
}

test("a body nested deeper than gateway.http.maxJsonDepth is a 400 before any upstream call", async () => {
  const upstreamCalls = posts();
  for (const depth of [40, 5_000, 200_000]) {
    for (const [path, body] of [
      ["/v1/chat/completions", { model: "openclaw", messages: hi, metadata: nested(depth) }],
      ["/v1/responses", { model: "openclaw", input: "hi", metadata: nested(depth) }],
    ] as const) {
      const response = await post(path, depth > 100 ? `{"model":"openclaw","x":${"[".repeat(depth)}${"]".repeat(depth)}}` : body);
      assert.equal(response.status, 400, `depth ${depth} on ${path}`);
      const { error } = await jsonOf(response);
      assert.equal(error.code, "json_too_deep");
      assert.match(error.message, /gateway\.http\.maxJsonDepth/);
    }
  }
  assert.equal(posts(), upstreamCalls);
  // Brackets inside strings do not count, and a deep-ish tool schema within the limit passes.
  const tools = [{ type: "function", function: { name: "f", parameters: nested(20) } }];
  const fine = await post("/v1/chat/completions", { model: "openclaw", messages: [{ role: "user", content: "[[[[".repeat(100) }], tools });
  assert.equal(fine.status, 200);
});

async function rawExchange(text: string): Promise<string> {
  const { port } = new URL(gateway.url);
  const socket = connect(Number(port), "127.0.0.1");
  let answer = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => {
    answer += chunk;
  });
  socket.on("error", () => undefined);
  socket.write(text);
  await new Promise<void>((resolve) => socket.once("close", () => resolve()));
  return answer;
}

function jsonAnswer(raw: string): { status: number; body: { error: { message: string; type: string; code: string } } } {
  const [head = "", body = ""] = raw.split("\r\n\r\n");
  assert.match(head, /content-type: application\/json/i);
  return { status: Number(head.split(" ")[1]), body: JSON.parse(body) };
}

test("Node's own refusals (bad request line, oversized headers) are OpenAI-shaped JSON", async () => {
  const bad = jsonAnswer(await rawExchange("GARBAGE\r\n\r\n"));
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error.type, "invalid_request_error");
  const huge = jsonAnswer(await rawExchange(`GET /v1/models HTTP/1.1\r\nhost: x\r\nx-big: ${"a".repeat(64 * 1024)}\r\n\r\n`));
  assert.equal(huge.status, 431);
  assert.equal(huge.body.error.code, "headers_too_large");
});

test("a client that disconnects during its upload is logged as a 499, not an unexpected error", async () => {
  const { port } = new URL(gateway.url);
  const socket = connect(Number(port), "127.0.0.1");
  socket.on("error", () => undefined);
  socket.write(
    `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${GATEWAY_TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n{"model":"openclaw",`,
  );
  // Wait until the gateway is reading the body (its handler runs), then vanish.
  await new Promise((resolve) => setTimeout(resolve, 0));
  const probe = await post("/v1/chat/completions", { model: "openclaw", messages: hi });
  assert.equal(probe.status, 200);
  socket.destroy();
  const logs = await logged(2);
  const aborted = logs.find((entry) => entry.status === 499);
  assert.ok(aborted, JSON.stringify(logs));
  assert.ok(!gateway.stdout().includes("unexpected error"), gateway.stdout());
});

test("a path longer than 2048 characters is a 414 before routing, and the log keeps only its start", async () => {
  const response = await fetch(`${gateway.url}/v1/models/${"p".repeat(10_000)}`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
  assert.equal(response.status, 414);
  assert.equal((await jsonOf(response)).error.code, "uri_too_long");
  const [entry] = await logged(1);
  assert.ok(String(entry?.path).length <= 256);
  assert.ok(!gateway.stdout().includes("p".repeat(300)));
});
