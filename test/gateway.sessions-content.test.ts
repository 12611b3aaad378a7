import assert from "node:assert/strict";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { databaseFilesContain, ledgerRow, readTable } from "./helpers/ledger.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

before(async () => {
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { model: string; messages: Array<{ content: string }> };
    return { body: completion(`echo ${body.messages.at(-1)?.content}`, body.model) };
  });
  state = await createTestState({ CHUTES_API_KEY: "cpk_sessions_content_key_0000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
    gateway: { sessions: { content: "none" } },
  });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

const chat = (content: string, headers: Record<string, string>) =>
  gateway.client({ headers }).chat.completions.create({ model: "openclaw", messages: [{ role: "user", content }] });
const recorded = (requestId: string) => waitUntil(() => ledgerRow(state.stateDir, requestId), { what: `the ledger row of ${requestId}` });

test('content "none": a named session keeps its turns as metadata, and no message reaches the disk', async () => {
  const marker = "marker-content-none-91d0";
  await chat(marker, { "x-openclaw-session-key": "kept-metadata", "x-request-id": "req-none-1" });
  await recorded("req-none-1");
  const turns = readTable<{ input: string; output: string | null; usage: string | null }>(
    state.stateDir,
    "SELECT input, output, usage FROM turns WHERE session_key = 'kept-metadata'",
  );
  assert.equal(turns.length, 1);
  assert.equal(turns[0]?.input, "[]");
  assert.equal(turns[0]?.output, null);
  assert.match(turns[0]?.usage ?? "", /prompt_tokens/);
  assert.equal(databaseFilesContain(state.stateDir, marker), false);
});

test('content "all" (applied without a restart): an unnamed request keeps its messages in a session of its own', async () => {
  assert.equal((await runCli(state, ["config", "set", "gateway.sessions.content", "all"])).code, 0);
  await waitUntil(() => gateway.stdout().includes("config reloaded"), { what: "the config reload" });
  const marker = "marker-content-all-5c7e";
  await chat(marker, { "x-request-id": "req-all-1" });
  const row = await recorded("req-all-1");
  assert.match(row.session_key ?? "", /^agent:main:request:/);
  const turns = readTable<{ input: string }>(state.stateDir, "SELECT input FROM turns WHERE session_key = ?", row.session_key);
  assert.equal(turns.length, 1);
  assert.match(turns[0]?.input ?? "", new RegExp(marker));
});
