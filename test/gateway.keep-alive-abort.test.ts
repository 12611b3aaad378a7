import assert from "node:assert/strict";
import { Agent, request as httpRequest, type IncomingMessage } from "node:http";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, requestLogs, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

// The gateway's "client went away" signal is made once per connection, not per request: requests
// on one keep-alive connection share it. A finished request must not leave anything behind on it
// (listeners, an abort), and a client leaving in the middle of a later request must still cut that
// request's upstream call.

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

before(async () => {
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { stream?: boolean };
    if (!body.stream) return { body: completion("hello") };
    return { events: wordStream(Array.from({ length: 200 }, (_, i) => ` w${i}`)), eventDelayMs: 20 };
  });
  state = await createTestState({ CHUTES_API_KEY: "cpk_keep_alive_test_key_0000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
  });
  gateway = await startGateway(state);
});
after(async () => {
  agent.destroy();
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

function post(body: object): Promise<{ response: IncomingMessage; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      agent,
      headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    });
    request.once("response", (response) => resolve({ response, reused: request.reusedSocket }));
    request.once("error", reject);
    request.end(JSON.stringify({ model: "chutes/zai-org/GLM-4.7-TEE", ...body }));
  });
}

async function text(response: IncomingMessage): Promise<string> {
  let all = "";
  for await (const chunk of response) all += chunk;
  return all;
}

test("requests one after another on a keep-alive connection all complete, and a later one is still cut when its client leaves", async () => {
  const messages = [{ role: "user", content: "hi" }];
  // More requests than Node's listener warning threshold (10): a listener left on the shared
  // signal by each request would show up as a MaxListenersExceededWarning.
  for (let i = 0; i < 25; i++) {
    const { response, reused } = await post({ messages });
    assert.equal(response.statusCode, 200);
    assert.equal(JSON.parse(await text(response)).choices[0].message.content, "hello");
    if (i > 0) assert.ok(reused, "the requests share one connection");
  }
  for (let i = 0; i < 3; i++) {
    const { response } = await post({ messages, stream: true });
    assert.match(await text(response), /data: \[DONE\]/);
  }
  assert.equal(chutes.abortedStreams, 0);

  const aborted = chutes.nextAbort();
  const { response, reused } = await post({ messages, stream: true });
  assert.ok(reused);
  await new Promise((resolve) => response.once("data", resolve));
  response.destroy();
  await aborted;
  assert.equal(chutes.abortedStreams, 1);
  const logs = await waitUntil(() => {
    const lines = requestLogs(gateway);
    return lines.length >= 29 ? lines : undefined;
  });
  assert.equal(logs.filter((line) => line.aborted === true).length, 1);
  assert.doesNotMatch(gateway.stderr(), /MaxListenersExceeded/);
});
