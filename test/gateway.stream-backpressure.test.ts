import assert from "node:assert/strict";
import { request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";

// A client that reads slowly holds the upstream back: the gateway waits for the client to drain
// and pauses its upstream read meanwhile, so what it buffers is bounded by socket buffers and its
// own high-water marks, measured here in bytes the upstream managed to write, not in time.

const TOTAL = 200 * 1024 * 1024;
/** Socket buffers on both sides (loopback autotuning reaches a few MB each) plus the gateway's queues. */
const BOUND = 48 * 1024 * 1024;

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
const upstream = { written: 0, blocked: false, finished: false };

before(async () => {
  chutes = await startFakeChutes();
  const content = "x".repeat(4096);
  const base = { id: "chatcmpl-p", object: "chat.completion.chunk", created: 1, model: "m" };
  const event = Buffer.from(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`);
  chutes.route("POST /chat/completions", {
    respond: (response: ServerResponse) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      // As fast as the socket takes it, recording whether the reader holds us back.
      const pump = () => {
        upstream.blocked = false;
        while (upstream.written < TOTAL && !response.destroyed) {
          upstream.written += event.length;
          if (!response.write(event)) {
            upstream.blocked = true;
            return void response.once("drain", pump);
          }
        }
        upstream.finished = true;
        response.end(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\ndata: [DONE]\n\n`);
      };
      pump();
    },
  });
  state = await createTestState({ CHUTES_API_KEY: "cpk_backpressure_test_key_0000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
  });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

test("a client that stops reading stops the upstream after a bounded number of bytes; nothing is lost when it resumes", {
  timeout: 240_000,
}, async () => {
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    const outgoing = httpRequest(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    });
    outgoing.on("response", resolve).on("error", reject);
    outgoing.end(JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }], stream: true }));
  });
  response.pause();
  assert.equal(response.statusCode, 200);
  // Wait until the upstream has been held back across many polls in a row, or has sent it all.
  let stable = 0;
  let last = -1;
  while (!upstream.finished && stable < 20) {
    await new Promise((resolve) => setTimeout(resolve, 25));
    stable = upstream.blocked && upstream.written === last ? stable + 1 : 0;
    last = upstream.written;
  }
  assert.ok(!upstream.finished, "the upstream sent the whole answer to a client that read nothing");
  assert.ok(upstream.written < BOUND, `the upstream wrote ${upstream.written} bytes while the client read nothing`);

  let received = 0;
  let tail = "";
  response.on("data", (chunk: Buffer) => {
    received += chunk.length;
    tail = (tail + chunk.toString("latin1")).slice(-64);
  });
  response.resume();
  await new Promise((resolve) => response.on("end", resolve));
  assert.ok(upstream.finished);
  assert.ok(received > TOTAL, "every event reached the client");
  assert.match(tail, /data: \[DONE\]\n\n$/);
});
