import assert from "node:assert/strict";
import OpenAI from "openai";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, fixtureText, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, beforeEach, test } from "./helpers/test.js";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
let client: OpenAI;

before(async () => {
  chutes = await startFakeChutes();
  state = await createTestState({ CHUTES_API_KEY: "cpk_responses_test_key_000000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
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
    return body.stream ? { events: wordStream(["Hello", " there"], body.model) } : { body: completion("Hello there", body.model) };
  });
});

type Body = { messages: Array<Record<string, unknown>>; [key: string]: unknown };
const upstream = () => chutes.requests.filter((request) => request.path === "/v1/chat/completions").at(-1)?.body as Body;

const toolCallCompletion = (model: string) => ({
  id: "chatcmpl-tool",
  object: "chat.completion",
  created: 1,
  model,
  choices: [
    {
      index: 0,
      finish_reason: "tool_calls",
      message: {
        role: "assistant",
        content: null,
        tool_calls: [{ id: "call_weather_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
      },
    },
  ],
  usage: { prompt_tokens: 20, completion_tokens: 7, total_tokens: 27 },
});

test("responses.create (non-streaming): output text, real usage, instructions first", async () => {
  const response = await client.responses.create({
    model: "openclaw",
    instructions: "Be brief.",
    input: "Say hello",
    max_output_tokens: 50,
    temperature: 0.2,
    metadata: { ticket: "42" },
  });
  assert.match(response.id, /^resp_[0-9a-f]{48}$/);
  assert.equal(response.object, "response");
  assert.equal(response.status, "completed");
  assert.equal(response.output_text, "Hello there");
  assert.equal(response.model, "chutes/Qwen/Qwen3-32B-TEE");
  assert.deepEqual(response.usage, {
    input_tokens: 5,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 3,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 8,
  });
  assert.deepEqual(response.metadata, { ticket: "42" });
  const body = upstream();
  assert.deepEqual(body.messages, [
    { role: "system", content: "Be brief." },
    { role: "user", content: "Say hello" },
  ]);
  assert.equal(body.max_tokens, 50);
  assert.equal(body.temperature, 0.2);
  assert.equal(body.metadata, undefined);
});

test("message items with input_text and input_image parts, and text.format json_schema", async () => {
  await client.responses.create({
    model: "openclaw",
    input: [
      {
        role: "user",
        content: [
          { type: "input_text", text: "What is in this image?" },
          { type: "input_image", image_url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" },
        ],
      },
    ],
    text: {
      format: { type: "json_schema", name: "answer", schema: { type: "object", properties: { thing: { type: "string" } } }, strict: true },
    },
  });
  const body = upstream();
  assert.deepEqual(body.messages[0], {
    role: "user",
    content: [
      { type: "text", text: "What is in this image?" },
      { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=", detail: "auto" } },
    ],
  });
  assert.deepEqual(body.response_format, {
    type: "json_schema",
    json_schema: { name: "answer", schema: { type: "object", properties: { thing: { type: "string" } } }, strict: true },
  });
});

test("the streamed events of a text response match the spec fixture event for event", async () => {
  const words = ["Hi", " there", "!", " How", " can", " I", " assist", " you", " today", "?"];
  chutes.route("POST /chat/completions", (request) => ({ events: wordStream(words, (request.body as { model: string }).model) }));
  const stream = await client.responses.create({
    model: "openclaw",
    instructions: "You are a helpful assistant.",
    input: "Hello!",
    stream: true,
  });
  const events: Array<Record<string, unknown>> = [];
  for await (const event of stream) events.push(event as unknown as Record<string, unknown>);
  const expected = fixtureText("openai-responses-stream.with-seq.sse")
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown>);
  assert.deepEqual(
    events.map((event) => event.type),
    expected.map((event) => event.type),
  );
  for (const [index, event] of events.entries()) {
    const spec = expected[index] as Record<string, unknown>;
    assert.deepEqual(Object.keys(event).sort(), Object.keys(spec).sort(), `fields of event ${index} (${event.type})`);
    assert.equal(event.sequence_number, index);
    if (spec.response) {
      assert.deepEqual(
        Object.keys(event.response as object).sort(),
        Object.keys(spec.response as object).sort(),
        `response fields in ${event.type}`,
      );
    }
    if (spec.delta !== undefined) assert.equal(event.delta, spec.delta);
  }
  const done = events.at(-1)?.response as { output: Array<{ content: Array<{ text: string }> }>; usage: { total_tokens: number } };
  assert.equal(done.output[0]?.content[0]?.text, "Hi there! How can I assist you today?");
  assert.equal(done.usage.total_tokens, 15);
});

test("a function call, then its function_call_output on the next turn", async () => {
  chutes.route("POST /chat/completions", (request) => ({ body: toolCallCompletion((request.body as { model: string }).model) }));
  const tools: OpenAI.Responses.Tool[] = [
    {
      type: "function",
      name: "get_weather",
      description: "Weather for a city",
      parameters: { type: "object", properties: { city: { type: "string" } } },
      strict: false,
    },
  ];
  const first = await client.responses.create({ model: "openclaw", input: "Weather in Paris?", tools, tool_choice: "auto" });
  const call = first.output.find((item) => item.type === "function_call");
  assert.ok(call && call.type === "function_call");
  assert.equal(call.call_id, "call_weather_1");
  assert.equal(call.name, "get_weather");
  assert.equal(call.arguments, '{"city":"Paris"}');
  assert.deepEqual(upstream().tools, [
    {
      type: "function",
      function: {
        name: "get_weather",
        description: "Weather for a city",
        parameters: { type: "object", properties: { city: { type: "string" } } },
        strict: false,
      },
    },
  ]);

  chutes.route("POST /chat/completions", (request) => ({
    body: completion("It is sunny in Paris.", (request.body as { model: string }).model),
  }));
  const second = await client.responses.create({
    model: "openclaw",
    previous_response_id: first.id,
    input: [{ type: "function_call_output", call_id: "call_weather_1", output: '{"sky":"sunny"}' }],
    tools,
  });
  assert.equal(second.output_text, "It is sunny in Paris.");
  assert.equal(second.previous_response_id, first.id);
  assert.deepEqual(upstream().messages, [
    { role: "user", content: "Weather in Paris?" },
    {
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_weather_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }],
    },
    { role: "tool", tool_call_id: "call_weather_1", content: '{"sky":"sunny"}' },
  ]);
});

test("a streamed function call arrives as function_call_arguments deltas", async () => {
  const base = { id: "c", object: "chat.completion.chunk", created: 1, model: "m" };
  chutes.route("POST /chat/completions", {
    events: [
      {
        ...base,
        choices: [
          {
            index: 0,
            delta: {
              role: "assistant",
              tool_calls: [{ index: 0, id: "call_x", type: "function", function: { name: "lookup", arguments: "" } }],
            },
            finish_reason: null,
          },
        ],
      },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{"q":' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '"tee"}' } }] }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] },
    ],
  });
  const stream = await client.responses.create({
    model: "openclaw",
    input: "look it up",
    stream: true,
    tools: [{ type: "function", name: "lookup", parameters: {}, strict: false }],
  });
  const events: Array<Record<string, unknown>> = [];
  for await (const event of stream) events.push(event as unknown as Record<string, unknown>);
  assert.deepEqual(
    events.map((event) => event.type),
    [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ],
  );
  assert.equal(events[5]?.arguments, '{"q":"tee"}');
  const item = (events[6]?.item ?? {}) as Record<string, unknown>;
  assert.deepEqual(
    [item.type, item.call_id, item.name, item.arguments, item.status],
    ["function_call", "call_x", "lookup", '{"q":"tee"}', "completed"],
  );
});

test("a chain of three turns via previous_response_id; instructions do not carry over", async () => {
  let turn = 0;
  chutes.route("POST /chat/completions", (request) => ({
    body: completion(`answer ${++turn}`, (request.body as { model: string }).model),
  }));
  const one = await client.responses.create({ model: "openclaw", instructions: "Only for turn one.", input: "My name is Ada." });
  const two = await client.responses.create({ model: "openclaw", previous_response_id: one.id, input: "I live in Paris." });
  const three = await client.responses.create({ model: "openclaw", previous_response_id: two.id, input: "Who am I?" });
  assert.equal(three.output_text, "answer 3");
  assert.deepEqual(upstream().messages, [
    { role: "user", content: "My name is Ada." },
    { role: "assistant", content: "answer 1" },
    { role: "user", content: "I live in Paris." },
    { role: "assistant", content: "answer 2" },
    { role: "user", content: "Who am I?" },
  ]);
});

test("an unknown previous_response_id is a 404 that names it", async () => {
  await assert.rejects(client.responses.create({ model: "openclaw", previous_response_id: "resp_doesnotexist", input: "hi" }), (error) => {
    assert.ok(error instanceof OpenAI.NotFoundError);
    assert.match((error as Error).message, /resp_doesnotexist/);
    return true;
  });
  assert.equal(chutes.requests.length, 0);
});

test("an upstream failure mid-stream ends with response.failed, never completed", async () => {
  const base = { id: "c", object: "chat.completion.chunk", created: 1, model: "m" };
  chutes.route("POST /chat/completions", {
    events: [
      { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "Partial" }, finish_reason: null }] },
      'raw:{"error": "upstream exploded", "code": 500}',
    ],
  });
  const stream = await client.responses.create({ model: "openclaw", input: "hi", stream: true });
  const types: string[] = [];
  let failed: Record<string, unknown> | undefined;
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === "response.failed") failed = event.response as unknown as Record<string, unknown>;
  }
  assert.equal(types.at(-1), "response.failed");
  assert.ok(!types.includes("response.completed"));
  assert.equal(failed?.status, "failed");
  assert.match(String((failed?.error as { message?: string })?.message), /upstream exploded/);
});

test("retrieve returns a stored response; delete removes it; store:false keeps nothing", async () => {
  const created = await client.responses.create({ model: "openclaw", input: "keep me" });
  const fetched = await client.responses.retrieve(created.id);
  assert.equal(fetched.id, created.id);
  assert.equal(fetched.output_text, "Hello there");
  const deleted = await fetch(`${gateway.url}/v1/responses/${created.id}`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}` },
  });
  assert.equal(deleted.status, 200);
  await assert.rejects(client.responses.retrieve(created.id), OpenAI.NotFoundError);
  const unstored = await client.responses.create({ model: "openclaw", input: "forget me", store: false });
  assert.equal((unstored as unknown as { store: boolean }).store, false);
  await assert.rejects(client.responses.retrieve(unstored.id), OpenAI.NotFoundError);
});

test("unsupported input is a clear 400", async () => {
  await assert.rejects(client.responses.create({ model: "openclaw", input: [{ type: "web_search_call" } as never] }), (error) => {
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.match((error as Error).message, /not supported/);
    return true;
  });
});
