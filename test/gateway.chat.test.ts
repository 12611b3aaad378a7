import assert from "node:assert/strict";
import OpenAI from "openai";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, fixtureEvents, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, jsonOf, type RunningGateway, requestLogs, startGateway } from "./helpers/gateway.js";
import { after, before, beforeEach, test } from "./helpers/test.js";
import { eventually } from "./helpers/wait.js";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
let client: OpenAI;

before(async () => {
  chutes = await startFakeChutes();
  state = await createTestState({ CHUTES_API_KEY: "cpk_gateway_test_key_000000a1b2" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
  });
  gateway = await startGateway(state);
  client = gateway.client();
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});
beforeEach(() => {
  chutes.requests.length = 0;
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { stream?: boolean; model: string };
    return body.stream
      ? { events: wordStream(["Hello", " from", " Chutes"], body.model) }
      : {
          body: {
            id: "chatcmpl-1",
            object: "chat.completion",
            created: 1,
            model: body.model,
            choices: [{ index: 0, message: { role: "assistant", content: "Hello from Chutes" }, finish_reason: "stop" }],
            usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 },
          },
        };
  });
});

const upstreamBody = () =>
  chutes.requests.filter((request) => request.path === "/v1/chat/completions").at(-1)?.body as Record<string, unknown>;

test("non-streaming chat through the official SDK, with real usage and the canonical model", async () => {
  const completion = await client.chat.completions.create({
    model: "chutes/zai-org/GLM-4.7-TEE",
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(completion.choices[0]?.message.content, "Hello from Chutes");
  assert.equal(completion.model, "chutes/zai-org/GLM-4.7-TEE");
  assert.deepEqual(completion.usage, { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15 });
  assert.equal(upstreamBody().model, "zai-org/GLM-4.7-TEE");
  assert.equal(chutes.requests.at(-1)?.headers.authorization, "Bearer cpk_gateway_test_key_000000a1b2");
});

test("every request field reaches the upstream, known or not", async () => {
  const tools = [
    {
      type: "function" as const,
      function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } },
    },
  ];
  await client.chat.completions.create({
    model: "chutes-pro",
    messages: [{ role: "user", content: "hi" }],
    tools,
    tool_choice: "auto",
    response_format: { type: "json_object" },
    temperature: 0.3,
    top_p: 0.9,
    max_tokens: 77,
    stop: ["END"],
    seed: 42,
    // A field the gateway has never heard of must not be dropped either.
    ...({ repetition_penalty: 1.1, chat_template_kwargs: { thinking: false } } as object),
  });
  const body = upstreamBody();
  assert.equal(body.model, "deepseek-ai/DeepSeek-V3.2-TEE");
  assert.deepEqual(body.tools, tools);
  assert.equal(body.tool_choice, "auto");
  assert.deepEqual(body.response_format, { type: "json_object" });
  assert.equal(body.temperature, 0.3);
  assert.equal(body.top_p, 0.9);
  assert.equal(body.max_tokens, 77);
  assert.deepEqual(body.stop, ["END"]);
  assert.equal(body.seed, 42);
  assert.equal(body.repetition_penalty, 1.1);
  assert.deepEqual(body.chat_template_kwargs, { thinking: false });
});

test("streaming text: role first, tokens in order, a finish_reason, [DONE]", async () => {
  const stream = await client.chat.completions.create({
    model: "chutes/zai-org/GLM-4.7-TEE",
    stream: true,
    messages: [{ role: "user", content: "hi" }],
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(chunks[0]?.choices[0]?.delta.role, "assistant");
  assert.equal(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join(""), "Hello from Chutes");
  assert.ok(chunks.some((chunk) => chunk.choices[0]?.finish_reason === "stop"));
  // The client did not ask for usage: no usage chunk, though the gateway asked the upstream for it.
  assert.ok(chunks.every((chunk) => chunk.choices.length > 0 && !chunk.usage));
  assert.deepEqual(upstreamBody().stream_options, { include_usage: true });
});

test("streaming two parallel tool calls keeps each index; include_usage yields the final usage chunk", async () => {
  chutes.route("POST /chat/completions", { events: fixtureEvents("openai-chat-stream-tools-usage.sse") });
  const stream = client.chat.completions.stream({
    model: "chutes/zai-org/GLM-4.7-TEE",
    messages: [{ role: "user", content: "weather and time?" }],
    stream_options: { include_usage: true },
    tools: [
      { type: "function", function: { name: "get_current_weather", parameters: { type: "object" } } },
      { type: "function", function: { name: "get_time", parameters: { type: "object" } } },
    ],
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  const final = await stream.finalChatCompletion();
  const calls = final.choices[0]?.message.tool_calls ?? [];
  assert.deepEqual(
    calls.map((call) => (call.type === "function" ? [call.id, call.function.name, call.function.arguments] : [])),
    [
      ["call_abc123", "get_current_weather", '{"location": "Boston, MA"}'],
      ["call_def456", "get_time", "{}"],
    ],
  );
  assert.equal(final.choices[0]?.finish_reason, "tool_calls");
  const last = chunks.at(-1);
  assert.deepEqual(last?.choices, []);
  assert.equal(last?.usage?.total_tokens, 113);
  assert.equal(last?.usage?.prompt_tokens, 82);
});

test("reasoning_content passes through; usage reported on every upstream chunk is not forced on the client", async () => {
  chutes.route("POST /chat/completions", { events: fixtureEvents("chutes-chat-stream.reconstructed.sse") });
  const stream = await client.chat.completions.create({
    model: "chutes/zai-org/GLM-4.7-TEE",
    stream: true,
    messages: [{ role: "user", content: "hi" }],
  });
  const deltas: Array<Record<string, unknown>> = [];
  const usages: unknown[] = [];
  for await (const chunk of stream) {
    usages.push(chunk.usage);
    for (const choice of chunk.choices) deltas.push(choice.delta as Record<string, unknown>);
  }
  assert.equal(deltas.map((delta) => delta.reasoning_content ?? "").join(""), "The user greets me.");
  assert.equal(deltas.map((delta) => delta.content ?? "").join(""), "Hello! How can I help?");
  assert.ok(usages.every((usage) => usage === undefined));
});

test("a stream without role or finish_reason is repaired", async () => {
  const base = { id: "c", object: "chat.completion.chunk", created: 1, model: "m" };
  chutes.route("POST /chat/completions", {
    events: [
      { ...base, choices: [{ index: 0, delta: { content: "partial" }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: " answer" }, finish_reason: null }] },
    ],
  });
  const stream = await client.chat.completions.create({
    model: "chutes/zai-org/GLM-4.7-TEE",
    stream: true,
    messages: [{ role: "user", content: "hi" }],
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  assert.equal(chunks[0]?.choices[0]?.delta.role, "assistant");
  assert.equal(chunks.at(-1)?.choices[0]?.finish_reason, "stop");
});

test("an upstream error before the first byte keeps its status: 402, 404, 429, 503", async () => {
  for (const [status, SdkError] of [
    [402, OpenAI.APIError],
    [404, OpenAI.NotFoundError],
    [429, OpenAI.RateLimitError],
    [503, OpenAI.InternalServerError],
  ] as const) {
    chutes.route("POST /chat/completions", { status, body: { detail: `upstream says ${status}` } });
    await assert.rejects(
      client.chat.completions.create({ model: "chutes/zai-org/GLM-4.7-TEE", stream: true, messages: [{ role: "user", content: "hi" }] }),
      (error) => {
        assert.ok(error instanceof SdkError, `status ${status}: ${error}`);
        assert.equal((error as InstanceType<typeof OpenAI.APIError>).status, status);
        assert.match((error as Error).message, new RegExp(`upstream says ${status}`));
        return true;
      },
    );
  }
});

test("a slow reader gets a large stream whole (backpressure never stalls it)", async () => {
  const big = "x".repeat(70_000);
  chutes.route("POST /chat/completions", {
    events: [...wordStream([big, ...Array.from({ length: 300 }, (_, i) => ` ${"y".repeat(1000)}${i}`)])],
  });
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "chutes/zai-org/GLM-4.7-TEE", stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  assert.ok(text.endsWith("data: [DONE]\n\n"), text.slice(-200));
  assert.ok(text.includes(big));
  assert.ok(text.includes(`${"y".repeat(1000)}299`));
});

test("an upstream that answers a stream request with plain JSON is relayed as a stream", async () => {
  chutes.route("POST /chat/completions", (request) => ({ body: completion("plain answer", (request.body as { model: string }).model) }));
  const stream = await client.chat.completions.create({
    model: "chutes/zai-org/GLM-4.7-TEE",
    stream: true,
    messages: [{ role: "user", content: "hi" }],
  });
  let text = "";
  let finish: string | null | undefined;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    finish ??= chunk.choices[0]?.finish_reason;
  }
  assert.equal(text, "plain answer");
  assert.equal(finish, "stop");
});

test("the provider refusing the gateway's key is a 502, not a 401 about the client's token", async () => {
  chutes.route("POST /chat/completions", { status: 401, body: { detail: "Invalid token." } });
  await assert.rejects(
    client.chat.completions.create({ model: "chutes/zai-org/GLM-4.7-TEE", messages: [{ role: "user", content: "hi" }] }),
    (error) => {
      assert.ok(error instanceof OpenAI.InternalServerError);
      assert.equal((error as InstanceType<typeof OpenAI.APIError>).status, 502);
      assert.match((error as Error).message, /chutes returned HTTP 401: Invalid token/);
      return true;
    },
  );
});

test("an upstream error mid-stream arrives as one error event, then the stream ends", async () => {
  const base = { id: "c", object: "chat.completion.chunk", created: 1, model: "m" };
  chutes.route("POST /chat/completions", {
    events: [
      { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "Hel" }, finish_reason: null }] },
      'raw:{"error": "Internal server error: CUDA out of memory", "code": 500}',
    ],
  });
  const stream = await client.chat.completions.create({
    model: "chutes/zai-org/GLM-4.7-TEE",
    stream: true,
    messages: [{ role: "user", content: "hi" }],
  });
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const chunk of stream) seen.push(chunk.choices[0]?.delta.content ?? "");
    })(),
    (error) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.match((error as Error).message, /CUDA out of memory/);
      return true;
    },
  );
  assert.deepEqual(seen, ["Hel"]);
});

test("a client that aborts the stream aborts the upstream request", async () => {
  chutes.route("POST /chat/completions", { events: wordStream(Array.from({ length: 100 }, (_, i) => ` w${i}`)), eventDelayMs: 50 });
  const aborted = chutes.nextAbort();
  const controller = new AbortController();
  const stream = await client.chat.completions.create(
    { model: "chutes/zai-org/GLM-4.7-TEE", stream: true, messages: [{ role: "user", content: "go on" }] },
    { signal: controller.signal },
  );
  let count = 0;
  try {
    for await (const _ of stream) {
      if (++count === 3) controller.abort();
    }
  } catch {
    // the SDK reports the abort as an error; either way the client is gone
  }
  assert.ok(count < 100);
  await aborted;
  assert.ok(chutes.abortedStreams >= 1);
});

test("models.list() returns canonical provider/model ids, no agents", async () => {
  const page = await client.models.list();
  const ids = page.data.map((model) => model.id);
  assert.ok(ids.includes("chutes/Qwen/Qwen3-32B-TEE"));
  assert.ok(ids.includes("chutes/unsloth/gemma-3-12b-it"));
  assert.ok(!ids.includes("openclaw/main"));
  const qwen = page.data.find((model) => model.id === "chutes/Qwen/Qwen3-32B-TEE") as unknown as Record<string, unknown>;
  assert.equal(qwen.owned_by, "chutes");
  assert.equal(qwen.tee, true);
  assert.equal(qwen.context_window, 40960);
});

test("models.retrieve() takes a slash id, plain or URL-encoded; unknown ids are 404", async () => {
  const model = await client.models.retrieve("chutes/Qwen/Qwen3-32B-TEE");
  assert.equal(model.id, "chutes/Qwen/Qwen3-32B-TEE");
  const encoded = await fetch(`${gateway.url}/v1/models/chutes%2FQwen%2FQwen3-32B-TEE`, {
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}` },
  });
  assert.equal(encoded.status, 200);
  assert.equal((await jsonOf(encoded)).id, "chutes/Qwen/Qwen3-32B-TEE");
  await assert.rejects(client.models.retrieve("chutes/nope"), (error) => {
    assert.ok(error instanceof OpenAI.NotFoundError);
    assert.equal((error as InstanceType<typeof OpenAI.NotFoundError>).code, "model_not_found");
    return true;
  });
});

test("auth: a wrong or missing token is 401 with an OpenAI-shaped body", async () => {
  await assert.rejects(gateway.client({ apiKey: "wrong" }).models.list(), (error) => {
    assert.ok(error instanceof OpenAI.AuthenticationError);
    return true;
  });
  const response = await fetch(`${gateway.url}/v1/models`);
  assert.equal(response.status, 401);
  const body = await jsonOf(response);
  assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
});

test("one log line per request, with model and status, never a secret", async () => {
  await client.chat.completions.create({ model: "chutes-fast", messages: [{ role: "user", content: "hi" }] });
  const line = await eventually(
    () => requestLogs(gateway).find((entry) => entry.model === "chutes/zai-org/GLM-4.7-FP8"),
    (found) => found !== undefined,
  );
  assert.ok(line, gateway.stdout());
  assert.equal(line.status, 200);
  assert.equal(line.method, "POST");
  assert.equal(typeof line.ms, "number");
  assert.ok(!gateway.stdout().includes(GATEWAY_TOKEN));
  assert.ok(!gateway.stdout().includes("cpk_gateway_test_key"));
});
