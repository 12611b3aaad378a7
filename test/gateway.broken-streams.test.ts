import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import OpenAI from "openai";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeReply, type FakeUpstream, startFakeChutes, startFakeHuggingFace } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, beforeEach, test } from "./helpers/test.js";

// Broken upstream streams are failures, never answers: before the first chunk the next model is
// tried; after it the client gets an error event (no [DONE]) and the turn is recorded as failed.

let chutes: FakeUpstream;
let hf: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
let client: OpenAI;

const base = { id: "chatcmpl-b", object: "chat.completion.chunk", created: 1, model: "m" };
const first = { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "Partial" }, finish_reason: null }] };

/** An SSE answer written by hand: `events` as data lines, `[DONE]` only when asked. */
function sse(events: unknown[], options: { done?: boolean; type?: string } = {}): FakeReply {
  return {
    respond: (response: ServerResponse) => {
      response.writeHead(200, { "content-type": options.type ?? "text/event-stream" });
      for (const event of events) response.write(typeof event === "string" ? event : `data: ${JSON.stringify(event)}\n\n`);
      if (options.done) response.write("data: [DONE]\n\n");
      response.end();
    },
  };
}

before(async () => {
  chutes = await startFakeChutes();
  hf = await startFakeHuggingFace();
  state = await createTestState({ CHUTES_API_KEY: "cpk_broken_streams_key_0000000", HF_TOKEN: "hf_broken_streams_token_00000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url }, huggingface: { baseUrl: hf.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE", fallbacks: ["huggingface/Qwen/Qwen3-8B"] } } },
    // Each test breaks the primary on purpose: a cooldown would carry one test's failures into the next.
    gateway: { routing: { cooldownFailures: 0 } },
  });
  gateway = await startGateway(state);
  client = gateway.client();
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await hf.close();
  await state.cleanup();
});
let hfCalls = 0;
beforeEach(() => {
  hfCalls = 0;
  hf.route("POST /chat/completions", () => {
    hfCalls++;
    return sse([{ ...base, choices: [{ index: 0, delta: { content: "fallback answer" }, finish_reason: "stop" }] }], { done: true });
  });
});

const streamText = async (sessionKey?: string) => {
  const stream = await client.chat.completions.create(
    { model: "openclaw", messages: [{ role: "user", content: "hi" }], stream: true },
    sessionKey ? { headers: { "x-openclaw-session-key": sessionKey } } : {},
  );
  let text = "";
  const finishes: Array<string | null> = [];
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    finishes.push(chunk.choices[0]?.finish_reason ?? null);
  }
  return { text, finishes };
};

async function turnsOf(key: string): Promise<Array<{ status: string; error?: string }>> {
  for (;;) {
    const shown = await runCli(state, ["sessions", "show", key, "--json"]);
    if (shown.code === 0) {
      const { turns } = JSON.parse(shown.stdout);
      if (turns.length > 0) return turns;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
}

test("a stream cut off after its first chunk (no [DONE], no finish_reason) is an error event, recorded as failed", async () => {
  chutes.route("POST /chat/completions", sse([first]));
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      const stream = await client.chat.completions.create(
        { model: "openclaw", messages: [{ role: "user", content: "hi" }], stream: true },
        { headers: { "x-openclaw-session-key": "broken-cut" } },
      );
      for await (const chunk of stream) seen.push(`${chunk.choices[0]?.delta.content}:${chunk.choices[0]?.finish_reason}`);
    })(),
    (error: Error) => {
      assert.match(error.message, /stopped before it finished/);
      return true;
    },
  );
  assert.deepEqual(seen, ["Partial:null"], "no made-up finish_reason");
  const turns = await turnsOf("broken-cut");
  assert.equal(turns[0]?.status, "error");
});

test("a stream that ends with [DONE] but no finish_reason stays an answer (the relay adds the finish_reason)", async () => {
  chutes.route("POST /chat/completions", sse([first], { done: true }));
  const { text, finishes } = await streamText();
  assert.equal(text, "Partial");
  assert.equal(finishes.at(-1), "stop");
  assert.equal(hfCalls, 0);
});

for (const [name, reply] of [
  ["an empty stream", sse([])],
  ["a stream of nothing but [DONE]", sse([], { done: true })],
  ["a garbage stream", sse(["hello, this is not SSE\n\n"])],
  ["a 200 with an HTML page on a stream request", sse(["<html><title>Bad gateway</title></html>"], { type: "text/html" })],
  ["a 200 with an HTML body and no content type", sse(["<!doctype html><p>oops</p>"], { type: "application/octet-stream" })],
  ["a JSON answer without choices to a stream request", { body: { ...completion("x"), choices: [] } }],
  [
    "a stream of empty choices and usage only",
    sse(
      [
        { ...base, choices: [] },
        { ...base, choices: [], usage: { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 } },
      ],
      {
        done: true,
      },
    ),
  ],
  ["a 200 then an error as the first event", sse([`data: ${JSON.stringify({ error: { message: "model overloaded", code: 503 } })}\n\n`])],
] as const) {
  test(`${name} before any chunk falls back to the next model`, async () => {
    chutes.route("POST /chat/completions", reply);
    const { text } = await streamText();
    assert.equal(text, "fallback answer");
    assert.equal(hfCalls, 1);
  });
}

test("a broken stream with no model left to try is a 502, not an answer", async () => {
  chutes.route("POST /chat/completions", sse([]));
  hf.route("POST /chat/completions", sse([]));
  await assert.rejects(streamText(), (error) => {
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.status, 502);
    assert.match(error.message, /empty stream/);
    return true;
  });
});

test('a non-stream {"choices": null} is a 502 (after trying the fallback), not a 200', async () => {
  const broken = { ...completion("x"), choices: null };
  chutes.route("POST /chat/completions", { body: broken });
  hf.route("POST /chat/completions", { body: { ...completion("x"), choices: undefined } });
  await assert.rejects(client.chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }), (error) => {
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.status, 502);
    assert.match(error.message, /not a chat completion/);
    return true;
  });
});

test("/v1/responses: a stream cut off after its first chunk ends with response.failed, never response.completed", async () => {
  chutes.route("POST /chat/completions", sse([first]));
  const stream = await client.responses.create({ model: "openclaw", input: "hi", stream: true });
  const types: string[] = [];
  for await (const event of stream) types.push(event.type);
  assert.equal(types.at(-1), "response.failed");
  assert.ok(!types.includes("response.completed"));
});

test("an upstream that keeps its body open after [DONE] is cut, so its connection and slot come back", async () => {
  let open = 0;
  let closed = 0;
  chutes.route("POST /chat/completions", {
    respond: (response: ServerResponse) => {
      open++;
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(
        `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: "done" }, finish_reason: "stop" }] })}\n\n`,
      );
      response.write("data: [DONE]\n\n");
      // Keep-alive comments forever after [DONE].
      const ping = setInterval(() => response.write(": ping\n\n"), 50);
      response.on("close", () => {
        clearInterval(ping);
        closed++;
      });
    },
  });
  const { text } = await streamText();
  assert.equal(text, "done");
  for (let i = 0; i < 400 && closed < open; i++) await new Promise((resolve) => setTimeout(resolve, 25));
  assert.equal(closed, open, "the upstream response after [DONE] was never cut");
});
