import assert from "node:assert/strict";
import OpenAI from "openai";
import { MAX_TRANSCRIPT_CHARS } from "../src/gateway/chat-stream.js";
import { MAX_OUTPUT_CHARS } from "../src/gateway/responses/stream-translator.js";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

before(async () => {
  chutes = await startFakeChutes();
  state = await createTestState({ CHUTES_API_KEY: "cpk_transcript_cap_key_0000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: "chutes/Qwen/Qwen3-32B-TEE" } },
    gateway: { http: { maxBodyBytes: 100_000 } },
  });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

test("a long streamed answer reaches the client whole, but its transcript is capped", async () => {
  const piece = "x".repeat(10_000);
  const count = Math.ceil((MAX_TRANSCRIPT_CHARS * 1.5) / piece.length);
  const base = { id: "chatcmpl-long", object: "chat.completion.chunk", created: 1_785_077_000, model: "m" };
  chutes.route("POST /chat/completions", {
    events: [
      ...Array.from({ length: count }, () => ({ ...base, choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })),
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    ],
  });
  const stream = await gateway.client({ headers: { "x-openclaw-session-key": "long-answer" } }).chat.completions.create({
    model: "chutes/Qwen/Qwen3-32B-TEE",
    stream: true,
    messages: [{ role: "user", content: "talk" }],
  });
  let received = 0;
  for await (const chunk of stream) received += chunk.choices[0]?.delta.content?.length ?? 0;
  assert.equal(received, count * piece.length);

  let shown: { turns: Array<{ output: { content: string } | null }> } | undefined;
  for (let i = 0; i < 100 && !shown?.turns.length; i++) {
    const result = await runCli(state, ["sessions", "show", "long-answer", "--json"]);
    if (result.code === 0) shown = JSON.parse(result.stdout);
  }
  const content = shown?.turns[0]?.output?.content ?? "";
  assert.ok(content.startsWith("xxxx"));
  assert.ok(content.length < MAX_TRANSCRIPT_CHARS + 200, `transcript holds ${content.length} characters`);
  assert.match(content, /transcript truncated; \d+ more characters/);
});

test("a tool-call name streamed in huge pieces is capped in the transcript", async () => {
  const base = { id: "chatcmpl-name", object: "chat.completion.chunk", created: 1_785_077_000, model: "m" };
  const long = "n".repeat(100_000);
  chutes.route("POST /chat/completions", {
    events: [
      ...[0, 1, 2].map(() => ({
        ...base,
        choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { name: long, arguments: "" } }] }, finish_reason: null }],
      })),
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] },
    ],
  });
  const stream = await gateway.client({ headers: { "x-openclaw-session-key": "long-name" } }).chat.completions.create({
    model: "chutes/Qwen/Qwen3-32B-TEE",
    stream: true,
    messages: [{ role: "user", content: "call" }],
  });
  for await (const _chunk of stream);
  let shown: { turns: Array<{ output: { tool_calls?: Array<{ function: { name: string } }> } | null }> } | undefined;
  for (let i = 0; i < 100 && !shown?.turns.length; i++) {
    const result = await runCli(state, ["sessions", "show", "long-name", "--json"]);
    if (result.code === 0) shown = JSON.parse(result.stdout);
  }
  const name = shown?.turns[0]?.output?.tool_calls?.[0]?.function.name ?? "";
  assert.ok(name.length > 0 && name.length <= 256, `the stored name has ${name.length} characters`);
});

test("a /v1/responses stream longer than the response cap ends with response.failed, not an unbounded response", async () => {
  const piece = "y".repeat(10_000);
  const base = { id: "chatcmpl-long", object: "chat.completion.chunk", created: 1_785_077_000, model: "m" };
  chutes.route("POST /chat/completions", {
    events: [
      ...Array.from({ length: Math.ceil(MAX_OUTPUT_CHARS / piece.length) + 10 }, () => ({
        ...base,
        choices: [{ index: 0, delta: { content: piece }, finish_reason: null }],
      })),
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] },
    ],
  });
  const stream = await gateway.client().responses.create({ model: "chutes/Qwen/Qwen3-32B-TEE", stream: true, input: "talk" });
  let last = "";
  let code: string | undefined;
  for await (const event of stream) {
    last = event.type;
    if (event.type === "response.failed") code = event.response.error?.code;
  }
  assert.equal(last, "response.failed");
  assert.equal(code, "output_too_large");
});

test("a previous_response_id chain cannot grow past the request body cap", async () => {
  chutes.route("POST /chat/completions", (request) => ({ body: completion("ok", (request.body as { model: string }).model) }));
  const client = gateway.client();
  const input = "z".repeat(30_000);
  let previous = await client.responses.create({ model: "chutes/Qwen/Qwen3-32B-TEE", input });
  previous = await client.responses.create({ model: "chutes/Qwen/Qwen3-32B-TEE", input, previous_response_id: previous.id });
  previous = await client.responses.create({ model: "chutes/Qwen/Qwen3-32B-TEE", input, previous_response_id: previous.id });
  const calls = chutes.requests.length;
  await assert.rejects(
    client.responses.create({ model: "chutes/Qwen/Qwen3-32B-TEE", input, previous_response_id: previous.id }),
    (error) => {
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal((error as InstanceType<typeof OpenAI.BadRequestError>).code, "context_too_large");
      return true;
    },
  );
  assert.equal(chutes.requests.length, calls, "the refused request reached the upstream");
});
