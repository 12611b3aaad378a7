import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import OpenAI from "openai";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeReply, type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";

// What an upstream stream carries is checked where it enters: tool-call indexes, chunk shapes,
// the size of one SSE line. A leading byte-order mark is not the start of a field name.

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
let client: OpenAI;

const base = { id: "chatcmpl-s", object: "chat.completion.chunk", created: 1, model: "m" };
const first = { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "Hello" }, finish_reason: null }] };
const finish = { ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] };

before(async () => {
  chutes = await startFakeChutes();
  state = await createTestState({ CHUTES_API_KEY: "cpk_stream_bounds_key_0000000" });
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

async function collect(): Promise<{ text: string; error?: Error }> {
  let text = "";
  try {
    const stream = await client.chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "hi" }], stream: true });
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    return { text };
  } catch (error) {
    return { text, error: error as Error };
  }
}

for (const [name, bad, message] of [
  [
    "a tool-call index of 1e8",
    { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 1e8, id: "c", type: "function", function: { name: "f" } }] } }] },
    /tool call index out of range/,
  ],
  ["a negative tool-call index", { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: -1 }] } }] }, /tool call index/],
  ["a delta that is a string", { ...base, choices: [{ index: 0, delta: "oops" }] }, /delta that is not an object/],
  ["content that is an object", { ...base, choices: [{ index: 0, delta: { content: { $: 1 } } }] }, /content that is not a string/],
  ["choices that is not a list", { ...base, choices: { 0: {} } }, /choices that is not a list/],
  ["usage with a string count", { ...base, choices: [], usage: { prompt_tokens: "many" } }, /usage.prompt_tokens/],
] as const) {
  test(`${name} mid-stream ends the stream with an error event`, async () => {
    chutes.route("POST /chat/completions", { events: [first, bad, finish] });
    const { text, error } = await collect();
    assert.equal(text, "Hello");
    assert.ok(error, "the stream failed");
    assert.match(error.message, message);
  });
}

test("a 50 MB SSE line without a newline is refused, and the upstream is cut off after a bounded number of bytes", async () => {
  const LINE = 50 * 1024 * 1024;
  let written = 0;
  let closed!: () => void;
  const upstreamClosed = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const reply: FakeReply = {
    respond: (response: ServerResponse) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.on("close", closed);
      const piece = Buffer.alloc(64 * 1024, "a");
      response.write("data: ");
      // As fast as the socket takes it: what the gateway does not read stays in socket buffers.
      const pump = () => {
        while (written < LINE && !response.destroyed) {
          written += piece.length;
          if (!response.write(piece)) return void response.once("drain", pump);
        }
        if (!response.destroyed) response.end("\n\n");
      };
      pump();
    },
  };
  chutes.route("POST /chat/completions", reply);
  await assert.rejects(
    client.chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "hi" }], stream: true }),
    (error) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal(error.status, 502);
      assert.match(error.message, /larger than/);
      return true;
    },
  );
  await upstreamClosed;
  // 1 Mi characters of line, plus what kernel and undici buffers hold: far below the 50 MB.
  assert.ok(written < 12 * 1024 * 1024, `the upstream sent ${written} bytes before it was cut off`);
});

test("a stream starting with a UTF-8 byte-order mark keeps its first event", async () => {
  chutes.route("POST /chat/completions", {
    respond: (response: ServerResponse) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(Buffer.from([0xef, 0xbb, 0xbf]));
      for (const chunk of [first, { ...base, choices: [{ index: 0, delta: { content: " world" }, finish_reason: "stop" }] }])
        response.write(`data: ${JSON.stringify(chunk)}\n\n`);
      response.end("data: [DONE]\n\n");
    },
  });
  const { text, error } = await collect();
  assert.equal(error, undefined);
  assert.equal(text, "Hello world");
});

test("an upstream JSON answer nested too deep is a 502 (after the fallbacks), not a 500", async () => {
  const deep = `${"[".repeat(10_000)}${"]".repeat(10_000)}`;
  chutes.route("POST /chat/completions", {
    respond: (response) => {
      response.writeHead(200, { "content-type": "application/json" });
      response.end(
        `{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"hi","extra":${deep}},"finish_reason":"stop"}]}`,
      );
    },
  });
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "chutes/zai-org/GLM-4.7-TEE", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(response.status, 502);
  assert.equal(((await response.json()) as { error: { code: string } }).error.code, "upstream_bad_response");
});
