import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, jsonOf, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway | undefined;
const sockets: Socket[] = [];

before(async () => {
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", { body: completion("ok") });
});
after(() => chutes.close());
beforeEach(async () => {
  state = await createTestState({ CHUTES_API_KEY: "cpk_slow_clients_key_00000000" });
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
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

/** A raw connection to the gateway: what it answers, and when it closes. */
async function open(running: RunningGateway) {
  const socket = connect(Number(new URL(running.url).port), "127.0.0.1");
  sockets.push(socket);
  let answer = "";
  socket.setEncoding("utf8").on("data", (chunk: string) => {
    answer += chunk;
  });
  socket.on("error", () => undefined);
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  return { socket, closed, answer: () => answer };
}

const headers = (length: number) =>
  `POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${GATEWAY_TOKEN}\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`;

test("an authenticated body that never finishes arriving times out with a 408 (gateway.http.requestTimeoutMs)", async () => {
  const running = await start({ requestTimeoutMs: 400 });
  const slow = await open(running);
  slow.socket.write(`${headers(1000)}{"model":"openclaw",`);
  await slow.closed;
  assert.match(slow.answer(), /^HTTP\/1\.1 408/);
  assert.equal(JSON.parse(slow.answer().split("\r\n\r\n")[1] as string).error.code, "request_timeout");
  // A stream that takes longer than the request timeout is not affected: only the upload is timed.
  const fine = await running.client().chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "hi" }] });
  assert.equal(fine.choices[0]?.message.content, "ok");
});

test("headers that never finish arriving time out (gateway.http.headersTimeoutMs)", { timeout: 30_000 }, async () => {
  const running = await start({ headersTimeoutMs: 300 });
  const slow = await open(running);
  slow.socket.write("POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n");
  await slow.closed;
  assert.match(slow.answer(), /^HTTP\/1\.1 408/);
});

test("connections over gateway.http.maxConnectionsPerClient get a 429 and are closed; freed slots are reused", async () => {
  const running = await start({ maxConnectionsPerClient: 3 });
  const held = [await open(running), await open(running), await open(running)];
  const extra = await open(running);
  extra.socket.write("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
  await extra.closed;
  assert.match(extra.answer(), /^HTTP\/1\.1 429/);
  const body = JSON.parse(extra.answer().split("\r\n\r\n")[1] as string);
  assert.equal(body.error.code, "too_many_connections");
  // Another loopback address is the same client.
  const elsewhere = connect({ port: Number(new URL(running.url).port), host: "127.0.0.1", localAddress: "127.0.0.7" });
  sockets.push(elsewhere);
  let other = "";
  elsewhere.setEncoding("utf8").on("data", (chunk: string) => {
    other += chunk;
  });
  elsewhere.on("error", () => undefined);
  elsewhere.write("GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n");
  await new Promise<void>((resolve) => elsewhere.once("close", () => resolve()));
  assert.match(other, /^HTTP\/1\.1 429/);
  // Closing one frees its slot.
  held[0]?.socket.destroy();
  await held[0]?.closed;
  for (;;) {
    const response = await fetch(`${running.url}/healthz`, { headers: { connection: "close" } }).catch(() => undefined);
    if (response?.status === 200) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const listed = await fetch(`${running.url}/v1/models`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, connection: "close" } });
  assert.equal(listed.status, 200, JSON.stringify(await jsonOf(listed)));
});
