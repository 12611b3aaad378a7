import assert from "node:assert/strict";
import { Agent, request as httpRequest, type IncomingMessage } from "node:http";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";

// Each streamed attempt links its own signal (the first-byte budget's) to the client's, and the
// client's lives as long as its keep-alive connection. The link must go when the stream is over,
// whether it finished or failed: one left behind per request would pile up on a long-lived
// connection (Node warns past 10 listeners on one signal). And it must hold while the stream
// runs: a client leaving mid-stream still cuts the upstream call.

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
// Enough of each kind (finished, failed) that links left by either would pass the warning threshold alone.
const STREAMS = 24;
let upstreamCalls = 0;

const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;

before(async () => {
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", () => {
    upstreamCalls++;
    // Every other stream stops without finishing: the gateway ends it with an error event.
    if (upstreamCalls % 2 === 0 && upstreamCalls <= STREAMS)
      return { respond: (response) => void response.writeHead(200, { "content-type": "text/event-stream" }).end(chunk("cut")) };
    const words = upstreamCalls > STREAMS ? Array.from({ length: 200 }, (_, i) => ` w${i}`) : ["a", " b"];
    return { events: wordStream(words), eventDelayMs: upstreamCalls > STREAMS ? 20 : 0 };
  });
  state = await createTestState({ CHUTES_API_KEY: "cpk_keep_alive_streams_key_000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
    // Retries would re-ask the upstream for a failed stream; one call per request keeps the script simple.
    gateway: { routing: { retries: 0 } },
  });
  gateway = await startGateway(state);
});
after(async () => {
  agent.destroy();
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

function post(): Promise<{ response: IncomingMessage; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      agent,
      headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    });
    request.once("response", (response) => resolve({ response, reused: request.reusedSocket }));
    request.once("error", reject);
    request.end(JSON.stringify({ model: "chutes/zai-org/GLM-4.7-TEE", messages: [{ role: "user", content: "hi" }], stream: true }));
  });
}

async function text(response: IncomingMessage): Promise<string> {
  let all = "";
  for await (const chunk of response) all += chunk;
  return all;
}

test("streams finished or failed on one keep-alive connection leave no link to its signal, and a later one is still cut", async () => {
  let failed = 0;
  for (let i = 0; i < STREAMS; i++) {
    const { response, reused } = await post();
    assert.equal(response.statusCode, 200);
    const body = await text(response);
    if (body.includes('"error"')) failed++;
    else assert.match(body, /data: \[DONE\]/);
    if (i > 0) assert.ok(reused, "the requests share one connection");
  }
  assert.equal(failed, STREAMS / 2, "half the streams failed mid-stream");

  const aborted = chutes.nextAbort();
  const { response, reused } = await post();
  assert.ok(reused);
  await new Promise((resolve) => response.once("data", resolve));
  response.destroy();
  await aborted;
  assert.equal(chutes.abortedStreams, 1);
  assert.doesNotMatch(gateway.stderr(), /MaxListenersExceeded/);
});
