import assert from "node:assert/strict";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { createLiveKey } from "./helpers/keys.js";
import { readTable } from "./helpers/ledger.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";
import { connectWs } from "./helpers/ws-client.js";

const QWEN = "chutes/Qwen/Qwen3-32B-TEE";
const GLM = "chutes/zai-org/GLM-5.1-TEE";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

const createKey = (name: string, ...flags: string[]) => createLiveKey(state, gateway.url, name, ...flags);

const chatRequests = () => chutes.requests.filter((request) => request.path.endsWith("/chat/completions")).length;

before(async () => {
  chutes = await startFakeChutes();
  state = await createTestState({ CHUTES_API_KEY: "cpk_ws_keys_000000000000000000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: QWEN } } },
  });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

test("a key's scope and limits hold on the Responses WebSocket too, per response.create, and its rows carry the key", async () => {
  const { secret, id } = await createKey("ws-scoped", "--models", QWEN, "--rpm", "1");
  const client = await connectWs(gateway.url, { token: secret });
  try {
    const before = chatRequests();
    const outside = await client.create({ model: GLM, input: "hi", store: false });
    assert.equal(outside.at(-1)?.type, "error");
    assert.equal(outside.at(-1)?.error?.code, "model_not_allowed");
    assert.equal(chatRequests(), before, "a refused model never reaches the upstream");

    const first = await client.create({ model: QWEN, input: "hi", store: false });
    assert.equal(first.at(-1)?.type, "response.completed");
    // --rpm 1: the second create in the same minute is refused before the upstream is called.
    const second = await client.create({ model: QWEN, input: "again", store: false });
    assert.equal(second.at(-1)?.type, "error");
    assert.equal(second.at(-1)?.error?.code, "rate_limit_exceeded");
    assert.equal(chatRequests(), before + 1);
  } finally {
    client.ws.close();
  }
  const rows = await waitUntil(() => {
    const found = readTable<{ status: string }>(state.stateDir, "SELECT status FROM requests WHERE key_id = ?", id);
    return found.length >= 3 ? found : undefined;
  });
  assert.deepEqual(rows.map((row) => row.status).sort(), ["error", "error", "ok"]);
});
