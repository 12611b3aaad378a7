import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { readTable } from "./helpers/ledger.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";
import { connectWs, type WsClient } from "./helpers/ws-client.js";

let chutes: FakeUpstream;
const states: TestState[] = [];
const gateways: RunningGateway[] = [];
let release: () => void = () => undefined;

before(async () => {
  chutes = await startFakeChutes();
  // "hold" streams one chunk, then waits for the test to release it.
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { model: string; messages: Array<{ content: unknown }> };
    if (body.messages.at(-1)?.content !== "hold") return { events: wordStream(["Hi"], body.model) };
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const events = wordStream(["Hold", " on"], body.model);
    return {
      respond: async (response: ServerResponse) => {
        response.writeHead(200, { "content-type": "text/event-stream" });
        for (const event of events.slice(0, 2)) response.write(`data: ${JSON.stringify(event)}\n\n`);
        await released;
        for (const event of events.slice(2)) response.write(`data: ${JSON.stringify(event)}\n\n`);
        response.end("data: [DONE]\n\n");
      },
    };
  });
});
after(async () => {
  for (const gateway of gateways) await gateway.stop();
  await chutes.close();
  for (const state of states) await state.cleanup();
});

/** A gateway of its own, with these gateway.http settings. */
async function gatewayWith(http: Record<string, unknown>, args: string[] = []): Promise<[RunningGateway, TestState]> {
  const state = await createTestState({ CHUTES_API_KEY: "cpk_responses_ws_limits_key_00" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
    gateway: { http },
  });
  const gateway = await startGateway(state, ["--enable-endpoints", ...args]);
  states.push(state);
  gateways.push(gateway);
  return [gateway, state];
}

const closedWithin = (client: WsClient) =>
  Promise.race([client.closed, waitUntil(() => false, { what: "the socket to close" }).then(() => ({ code: 0, reason: "" }))]);

test("a credential past gateway.http.websocket.maxConnectionsPerCredential gets websocket_connection_limit_reached, then a close", async () => {
  const [gateway] = await gatewayWith({ websocket: { maxConnectionsPerCredential: 2 } });
  const first = await connectWs(gateway.url);
  const second = await connectWs(gateway.url);
  const third = await connectWs(gateway.url);
  const [refused] = await third.collect(0, (event) => event.type === "error");
  assert.equal(refused?.error.code, "websocket_connection_limit_reached");
  assert.equal(refused?.status, 429);
  assert.equal((await closedWithin(third)).code, 1013);
  // The two within the limit work; once one closes, a new one is admitted.
  assert.equal((await second.create({ model: "openclaw", input: "hi" })).at(-1)?.type, "response.completed");
  first.ws.close();
  await first.closed;
  const fourth = await connectWs(gateway.url);
  assert.equal((await fourth.create({ model: "openclaw", input: "hi" })).at(-1)?.type, "response.completed");
  second.ws.close();
  fourth.ws.close();
});

test("a socket older than gateway.http.websocket.maxConnectionAgeMs is closed with 1001 and says why", async () => {
  const [gateway] = await gatewayWith({ websocket: { maxConnectionAgeMs: 300 } });
  const client = await connectWs(gateway.url);
  const closed = await closedWithin(client);
  assert.equal(closed.code, 1001);
  assert.match(closed.reason, /maximum connection age/);
});

test("a socket that reaches its age mid-response finishes the response first, then closes", async () => {
  const [gateway] = await gatewayWith({ websocket: { maxConnectionAgeMs: 300 } });
  const busy = await connectWs(gateway.url);
  busy.send({ type: "response.create", model: "openclaw", input: "hold" });
  await busy.collect(0, (event) => event.type === "response.output_text.delta");
  // Opened after `busy`, so its age runs out later: once it is closed, `busy` is past its age too.
  const clock = await connectWs(gateway.url);
  assert.equal((await closedWithin(clock)).code, 1001);
  assert.equal(busy.ws.readyState, busy.ws.OPEN);
  release();
  const events = await busy.collect(0, (event) => event.type === "response.completed");
  assert.equal(events.at(-1)?.response.output[0].content[0].text, "Hold on");
  const closed = await closedWithin(busy);
  assert.equal(closed.code, 1001);
  assert.match(closed.reason, /maximum connection age/);
});

test("ping/pong keep-alive: a peer that answers stays, one that does not is dropped", async () => {
  const [gateway] = await gatewayWith({ websocket: { pingIntervalMs: 100 } });
  const healthy = await connectWs(gateway.url);
  const dead = await connectWs(gateway.url, { autoPong: false });
  let pings = 0;
  healthy.ws.on("ping", () => pings++);
  await closedWithin(dead);
  await waitUntil(() => pings >= 4, { what: "four pings to the healthy socket" });
  assert.equal(healthy.ws.readyState, healthy.ws.OPEN);
  assert.equal((await healthy.create({ model: "openclaw", input: "hi" })).at(-1)?.type, "response.completed");
  healthy.ws.close();
});

test("a message larger than gateway.http.maxBodyBytes closes the socket with 1009 before it is parsed", async () => {
  const [gateway] = await gatewayWith({ maxBodyBytes: 4096 });
  const client = await connectWs(gateway.url);
  client.ws.send(`{"type":"response.create","model":"openclaw","input":"${"x".repeat(8192)}"`);
  assert.equal((await closedWithin(client)).code, 1009);
  assert.deepEqual(client.events, []);
});

test("shutdown closes idle sockets with 1001 at once, lets a response in flight finish first, and records it", async () => {
  const [gateway, state] = await gatewayWith({}, ["--drain-timeout", "60000"]);
  const idle = await connectWs(gateway.url);
  const busy = await connectWs(gateway.url);
  busy.send({ type: "response.create", model: "openclaw", input: "hold" });
  await busy.collect(0, (event) => event.type === "response.output_text.delta");
  gateway.child.kill("SIGTERM");
  const idleClosed = await closedWithin(idle);
  assert.equal(idleClosed.code, 1001);
  assert.match(idleClosed.reason, /shutting down/);
  assert.equal(busy.ws.readyState, busy.ws.OPEN);
  release();
  const events = await busy.collect(0, (event) => event.type === "response.completed");
  assert.equal(events.at(-1)?.response.output[0].content[0].text, "Hold on");
  assert.equal((await closedWithin(busy)).code, 1001);
  assert.equal(await gateway.exited, 0);
  const rows = readTable<{ status: string; endpoint: string }>(state.stateDir, "SELECT status, endpoint FROM requests");
  assert.deepEqual(rows, [{ status: "ok", endpoint: "responses" }]);
});
