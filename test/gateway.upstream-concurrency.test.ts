import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import type OpenAI from "openai";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";

// Requests to one upstream origin are limited (gateway.http.upstreamMaxConnections); one that
// waits longer than upstreamQueueTimeoutMs for a free slot is a 503 with Retry-After. A stream
// holds its slot until it ends.

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
let client: OpenAI;
const held: ServerResponse[] = [];

const base = { id: "chatcmpl-q", object: "chat.completion.chunk", created: 1, model: "m" };
const event = (content: string, finish: string | null = null) =>
  `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;

before(async () => {
  chutes = await startFakeChutes();
  // Streams say their first word, then wait until the test lets them finish.
  chutes.route("POST /chat/completions", {
    respond: (response: ServerResponse) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(event("first"));
      held.push(response);
    },
  });
  state = await createTestState({ CHUTES_API_KEY: "cpk_concurrency_test_key_00000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
    gateway: { http: { upstreamMaxConnections: 2, upstreamQueueTimeoutMs: 1500 } },
  });
  gateway = await startGateway(state);
  client = gateway.client();
});
after(async () => {
  for (const response of held) response.destroy();
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

/** A stream that has delivered its first chunk, and the rest of it. */
async function startStream() {
  const stream = await client.chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "hi" }], stream: true });
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  assert.equal(first.value?.choices[0]?.delta.content, "first");
  return async () => {
    let text = "first";
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) text += next.value.choices[0]?.delta.content ?? "";
    return text;
  };
}

const finishOne = () => (held.shift() as ServerResponse).end(`${event(" done", "stop")}data: [DONE]\n\n`);

test("past upstreamMaxConnections a request waits, then gets a 503 upstream_busy with Retry-After; a freed slot lets the next one in", {
  timeout: 30_000,
}, async () => {
  const restOfA = await startStream();
  const restOfB = await startStream();
  assert.equal(held.length, 2);

  const busy = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${client.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }], stream: true }),
  });
  const body = (await busy.json()) as { error: { code: string; message: string } };
  assert.equal(busy.status, 503);
  assert.equal(body.error.code, "upstream_busy");
  assert.equal(busy.headers.get("retry-after"), "1");
  assert.equal(held.length, 2, "the refused request never reached the upstream");

  // A queued request proceeds as soon as a stream ends.
  const queued = startStream();
  finishOne();
  assert.equal(await restOfA(), "first done");
  const restOfC = await queued;
  finishOne();
  finishOne();
  assert.equal(await restOfB(), "first done");
  assert.equal(await restOfC(), "first done");
});
