import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import OpenAI from "openai";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeReply, type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";

// Whatever the gateway reads whole from an upstream has a cap; past it the upstream request is
// aborted (the fake sees its connection closed after a bounded number of bytes).

const CAP = 1024 * 1024;
/** The cap, plus what socket and undici buffers hold before the gateway reads. */
const BOUND = CAP + 8 * 1024 * 1024;

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
let client: OpenAI;

before(async () => {
  chutes = await startFakeChutes();
  state = await createTestState({ CHUTES_API_KEY: "cpk_upstream_caps_key_0000000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url, embeddingsBaseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
    // One upstream answer per request: a 500 would otherwise be retried, and each retry's buffers add up.
    gateway: { http: { maxUpstreamBodyBytes: CAP }, routing: { retries: 0 } },
  });
  gateway = await startGateway(state);
  client = gateway.client();
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

/** An answer that never ends (600 MB): records bytes written and resolves `closed` when cut off. */
function endless(status: number, type: string, start: string) {
  const sent = { bytes: 0 };
  let closed!: () => void;
  const cutOff = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const reply: FakeReply = {
    respond: (response: ServerResponse) => {
      response.writeHead(status, { "content-type": type });
      response.on("close", closed);
      response.write(start);
      const piece = Buffer.alloc(64 * 1024, " ");
      const pump = () => {
        while (sent.bytes < 600 * 1024 * 1024 && !response.destroyed) {
          sent.bytes += piece.length;
          if (!response.write(piece)) return void response.once("drain", pump);
        }
        if (!response.destroyed) response.end("}");
      };
      pump();
    },
  };
  return { reply, sent, cutOff };
}

const hi = [{ role: "user" as const, content: "hi" }];

test("a JSON answer that keeps coming is a 502 and the upstream is cut off", async () => {
  const { reply, sent, cutOff } = endless(200, "application/json", '{"id":"x","choices":[');
  chutes.route("POST /chat/completions", reply);
  await assert.rejects(client.chat.completions.create({ model: "openclaw", messages: hi }), (error) => {
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.status, 502);
    assert.match(error.message, /body over 1048576 bytes/);
    return true;
  });
  await cutOff;
  assert.ok(sent.bytes < BOUND, `the upstream sent ${sent.bytes} bytes`);
});

test("an error body that keeps coming is read up to its prefix, then cut off", async () => {
  const { reply, sent, cutOff } = endless(500, "application/json", '{"error":{"message":"overloaded, try later"   ');
  chutes.route("POST /chat/completions", reply);
  await assert.rejects(client.chat.completions.create({ model: "openclaw", messages: hi }), (error) => {
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.status, 502);
    assert.match(error.message, /HTTP 500/);
    return true;
  });
  await cutOff;
  assert.ok(sent.bytes < 64 * 1024 + 8 * 1024 * 1024, `the upstream sent ${sent.bytes} bytes`);
});

test("a JSON answer to a stream request that keeps coming is a 502 and the upstream is cut off", async () => {
  const { reply, sent, cutOff } = endless(200, "application/json", '{"id":"x","choices":[');
  chutes.route("POST /chat/completions", reply);
  await assert.rejects(client.chat.completions.create({ model: "openclaw", messages: hi, stream: true }), (error) => {
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.status, 502);
    assert.match(error.message, /body over 1048576 bytes/);
    return true;
  });
  await cutOff;
  assert.ok(sent.bytes < BOUND, `the upstream sent ${sent.bytes} bytes`);
});

test("an embeddings answer that keeps coming is a 502 and the upstream is cut off", async () => {
  const { reply, sent, cutOff } = endless(200, "application/json", '{"object":"list","data":[');
  chutes.route("POST /embeddings", reply);
  await assert.rejects(client.embeddings.create({ model: "chutes/Qwen/Qwen3-Embedding-8B", input: "hi" }), (error) => {
    assert.ok(error instanceof OpenAI.APIError);
    assert.equal(error.status, 502);
    return true;
  });
  await cutOff;
  assert.ok(sent.bytes < BOUND, `the upstream sent ${sent.bytes} bytes`);
});
