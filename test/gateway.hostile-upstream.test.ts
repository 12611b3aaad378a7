import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeReply, type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";

// An upstream is only half trusted: what it says about usage is charged to budgets and summed into
// counters, and how long it keeps a request is bounded whatever bytes it sends to look alive.

const MODEL = "zai-org/GLM-4.7-TEE";
const TIMEOUT_MS = 800;
let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

const base = { id: "chatcmpl-h", object: "chat.completion.chunk", created: 1, model: MODEL };
const content = (text: string) =>
  `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: text }, finish_reason: null }] })}\n\n`;

/** Upstream answers that were still being written when the gateway closed their connection. */
let cut = 0;

/** Writes `every` ms until the gateway goes away; the text never completes an answer. */
function keepWriting(response: ServerResponse, text: string, every: number): void {
  const timer = setInterval(() => {
    if (!response.destroyed) response.write(text);
  }, every);
  response.on("close", () => {
    clearInterval(timer);
    cut++;
  });
}

const replies: Record<string, FakeReply> = {
  "negative-usage": { body: { ...completion("hi", MODEL), usage: { prompt_tokens: -3_000_000, completion_tokens: 2, total_tokens: 2 } } },
  "huge-usage": { body: { ...completion("hi", MODEL), usage: { prompt_tokens: 1, completion_tokens: 1e308, total_tokens: 1e308 } } },
  "string-usage": { body: { ...completion("hi", MODEL), usage: { prompt_tokens: "12", completion_tokens: 1, total_tokens: 13 } } },
  "negative-cached": {
    body: {
      ...completion("hi", MODEL),
      usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6, prompt_tokens_details: { cached_tokens: -9 } },
    },
  },
  "stream-negative-usage": {
    events: [
      { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "hi" }, finish_reason: "stop" }] },
      { ...base, choices: [], usage: { prompt_tokens: -3_000_000, completion_tokens: 2, total_tokens: 2 } },
    ],
  },
  // A JSON answer to a stream request whose choice is null: a bad answer, not a network failure.
  "null-choice": { body: { ...completion("hi", MODEL), choices: [null] } },
  "string-message": { body: { ...completion("hi", MODEL), choices: [{ index: 0, message: "hi", finish_reason: "stop" }] } },
  // Almost a JSON answer, then a space a tick for ever: each byte would reset a per-read timer.
  trickle: {
    respond: (response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.write(JSON.stringify(completion("hi", MODEL)).slice(0, -1));
      keepWriting(response, " ", 50);
    },
  },
  // One token, then keep-alive comments for ever.
  "comments-after-token": {
    respond: (response) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(content("one"));
      keepWriting(response, ": keep-alive\n\n", 50);
    },
  },
  // An error status whose body never ends.
  "trickled-error": {
    respond: (response) => {
      response.writeHead(500, { "content-type": "application/json" });
      response.write('{"error":{"message":"overloaded"');
      keepWriting(response, " ", 50);
    },
  },
};

before(async () => {
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", (request) => {
    const messages = (request.body as { messages: Array<{ content: string }> }).messages;
    const reply = replies[messages.at(-1)?.content ?? ""];
    if (!reply) throw new Error("unknown scenario");
    return reply;
  });
  state = await createTestState({ CHUTES_API_KEY: "cpk_hostile_upstream_key_000000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: `chutes/${MODEL}` } } },
    gateway: {
      http: { upstreamTimeoutMs: TIMEOUT_MS, endpoints: { responses: { enabled: true } } },
      routing: { retries: 0, cooldownFailures: 0 },
    },
  });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

async function post(path: string, body: object) {
  const response = await fetch(`${gateway.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: response.status, text: await response.text() };
}

const chat = (scenario: string, stream = false) =>
  post("/v1/chat/completions", { model: `chutes/${MODEL}`, messages: [{ role: "user", content: scenario }], stream });

const errorOf = (text: string) => (JSON.parse(text) as { error: { code: string | null; message: string; param: string | null } }).error;

/** The error event a stream ended with (after its first byte the status line is gone). */
function streamError(text: string) {
  const events = text
    .split("\n\n")
    .filter((block) => block.startsWith("data: ") && block !== "data: [DONE]")
    .map((block) => JSON.parse(block.slice(6)) as { error?: { code: string | null; message: string } });
  assert.ok(!text.includes("data: [DONE]"), "a failed stream does not end with [DONE]");
  const last = events.at(-1)?.error;
  assert.ok(last, `the stream ended with an error event: ${text}`);
  return last;
}

test("usage that is negative, absurd or not a number is a bad upstream answer, never charged or counted", async () => {
  for (const scenario of ["negative-usage", "huge-usage", "string-usage", "negative-cached"]) {
    const answer = await chat(scenario);
    assert.equal(answer.status, 502, `${scenario}: ${answer.text}`);
    assert.equal(errorOf(answer.text).code, "upstream_bad_response", scenario);
    assert.match(errorOf(answer.text).message, /usage/);
  }
  const streamed = await chat("stream-negative-usage", true);
  assert.equal(streamed.status, 200);
  assert.equal(streamError(streamed.text).code, "upstream_bad_response");
  // Nothing of it reached the token counters: no negative or infinite sample.
  const metrics = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } }).then((r) => r.text());
  for (const line of metrics.split("\n").filter((l) => /token/.test(l) && !l.startsWith("#"))) {
    const value = Number(line.split(" ").at(-1));
    assert.ok(Number.isFinite(value) && value >= 0, `metrics sample ${line}`);
  }
});

test("a stream request answered with JSON whose choice is not an object is a bad answer (502), not an unreachable upstream", async () => {
  for (const scenario of ["null-choice", "string-message"]) {
    const answer = await chat(scenario, true);
    assert.equal(answer.status, 502, `${scenario}: ${answer.text}`);
    assert.equal(errorOf(answer.text).code, "upstream_bad_response", scenario);
    assert.doesNotMatch(errorOf(answer.text).message, /Cannot read|TypeError|cannot reach/);
  }
});

test("an upstream trickling bytes is cut at the upstream timeout: a JSON body, a stream of keep-alive comments, an error body", async () => {
  const json = await chat("trickle");
  assert.equal(json.status, 504, json.text);
  assert.equal(errorOf(json.text).code, "upstream_timeout");

  const streamed = await chat("comments-after-token", true);
  assert.equal(streamed.status, 200);
  assert.match(streamed.text, /"content":"one"/);
  assert.equal(streamError(streamed.text).code, "upstream_timeout");

  // The same on /v1/responses, which streams through the same client.
  const responses = await post("/v1/responses", { model: `chutes/${MODEL}`, input: "comments-after-token", stream: true });
  assert.match(responses.text, /response\.failed/);
  assert.match(responses.text, /upstream_timeout/);

  const failed = await chat("trickled-error", true);
  assert.equal(failed.status, 502, failed.text);
  assert.match(errorOf(failed.text).message, /500|overloaded/);
  await waitForAborts(4);
});

/** Each cut request was aborted upstream too (its connection closed), not left running. */
async function waitForAborts(count: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (cut < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  assert.ok(cut >= count, `upstream answers cut: ${cut}`);
}

test("fields the gateway acts on must have their type: stream, stream_options, tools, previous_response_id", async () => {
  const refusals: Array<[string, object, string]> = [
    ["/v1/chat/completions", { model: `chutes/${MODEL}`, messages: [{ role: "user", content: "x" }], stream: "true" }, "stream"],
    [
      "/v1/chat/completions",
      { model: `chutes/${MODEL}`, messages: [{ role: "user", content: "x" }], stream_options: "x" },
      "stream_options",
    ],
    ["/v1/responses", { model: `chutes/${MODEL}`, input: "x", tools: "g" }, "tools"],
    ["/v1/responses", { model: `chutes/${MODEL}`, input: "x", tools: { length: 1 }, stream: true }, "tools"],
    ["/v1/responses", { model: `chutes/${MODEL}`, input: "x", stream: 1 }, "stream"],
    ["/v1/responses", { model: `chutes/${MODEL}`, input: "x", previous_response_id: 5 }, "previous_response_id"],
  ];
  for (const [path, body, param] of refusals) {
    const answer = await post(path, body);
    assert.equal(answer.status, 400, `${path} ${JSON.stringify(body)}: ${answer.text}`);
    assert.equal(errorOf(answer.text).param, param);
  }
});
