import assert from "node:assert/strict";
import { connect } from "node:net";
import OpenAI from "openai";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway | undefined;

before(async () => {
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", { body: completion("ok") });
});
after(() => chutes.close());
beforeEach(async () => {
  state = await createTestState({ CHUTES_API_KEY: "cpk_refused_upload_key_000000" });
});
afterEach(async () => {
  await gateway?.stop();
  gateway = undefined;
  await state.cleanup();
});

async function start(http: Record<string, unknown>) {
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
    gateway: { http },
  });
  gateway = await startGateway(state);
  return gateway;
}

test("the official SDK sending a body over the limit reads the 413, every time", async () => {
  const running = await start({ maxBodyBytes: 64 * 1024 });
  const client = running.client();
  const big = "x".repeat(8 * 1024 * 1024);
  for (let round = 0; round < 6; round++) {
    const error = await client.chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: big }] }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof OpenAI.APIError, `round ${round}: ${String(error)}`);
    assert.equal(error.status, 413, `round ${round}: ${error.message}`);
    assert.equal((error.error as { code?: string }).code, "request_too_large");
  }
  // The connection pool is still healthy afterwards.
  const answer = await client.chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "hi" }] });
  assert.equal(answer.choices[0]?.message.content, "ok");
});

test("a client that keeps uploading past the drain bound is cut off, not drained forever", async () => {
  const running = await start({ maxBodyBytes: 1024, requestTimeoutMs: 600_000 });
  const { port } = new URL(running.url);
  const socket = connect(Number(port), "127.0.0.1");
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(
    `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${GATEWAY_TOKEN}\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n`,
  );
  let answer = "";
  socket.setEncoding("utf8").on("data", (text: string) => {
    answer += text;
  });
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  socket.on("error", () => undefined);
  // An endless chunked body: 64 KiB chunks until the gateway stops taking them.
  const chunk = `10000\r\n${"x".repeat(0x10000)}\r\n`;
  let sent = 0;
  let open = true;
  void closed.then(() => {
    open = false;
  });
  while (open && sent < 4 * 1024 * 1024 * 1024) {
    if (!socket.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          socket.off("drain", done);
          socket.off("close", done);
          resolve();
        };
        socket.on("drain", done).on("close", done);
      });
    }
    sent += chunk.length;
  }
  await closed;
  assert.match(answer, /^HTTP\/1\.1 413/);
  // Cut within the drain bound (plus what the kernel buffers), far below what the client was willing to send.
  assert.ok(sent < 512 * 1024 * 1024, `sent ${sent} bytes before the gateway cut the connection`);
});
