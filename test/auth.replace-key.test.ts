import assert from "node:assert/strict";
import { createTestState, readConfig, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, fixtureJson, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

const KEY_A = "cpk_FAKE-onboarding-key-aaaa.0000.aaaa";
const KEY_B = "cpk_FAKE-replacement-key-bbbb.0000.bbbb";

let chutes: FakeUpstream;
let state: TestState;
before(async () => {
  chutes = await startFakeChutes();
  chutes.route("GET /models", { body: fixtureJson("chutes-models.json") });
  chutes.route("POST /chat/completions", { events: wordStream(["ok"]) });
});
after(() => chutes.close());
beforeEach(async () => {
  chutes.requests.length = 0;
  state = await createTestState();
  await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url } } } });
});
afterEach(() => state.cleanup());

const chatAuth = () => chutes.requests.filter((request) => request.path === "/v1/chat/completions").map((r) => r.headers.authorization);

async function onboardThenPaste(): Promise<void> {
  const onboard = await runCli(state, [
    "onboard",
    "--non-interactive",
    "--accept-risk",
    "--auth-choice",
    "chutes-api-key",
    "--chutes-api-key",
    KEY_A,
  ]);
  assert.equal(onboard.code, 0, onboard.stderr);
  assert.equal((await runCli(state, ["chat", "hi"])).code, 0);
  const paste = await runCli(state, ["models", "auth", "paste-token", "--provider", "chutes"], { input: `${KEY_B}\n` });
  assert.equal(paste.code, 0, paste.stderr);
  assert.equal(paste.stderr, "", "no warning: nothing shadows the new key");
}

test("a key pasted after onboarding replaces the onboarding key for requests", async () => {
  await onboardThenPaste();
  const chat = await runCli(state, ["chat", "hi"]);
  assert.equal(chat.code, 0, chat.stderr);
  assert.deepEqual(chatAuth(), [`Bearer ${KEY_A}`, `Bearer ${KEY_B}`]);
  assert.equal((await readConfig(state)).auth.order, undefined, "auth.order stays the user's");
});

test("models status names the profile in use (redacted)", async () => {
  await onboardThenPaste();
  const text = await runCli(state, ["models", "status"]);
  assert.match(text.stdout, /chutes: profile chutes:manual \(cpk_…bbbb\)/);
  assert.ok(!text.stdout.includes(KEY_B));
  const json = JSON.parse((await runCli(state, ["models", "status", "--json"])).stdout);
  assert.deepEqual(json.providers[0].credential, { source: "profile", origin: "chutes:manual", mode: "api_key", redacted: "cpk_…bbbb" });
});

test("onboarding again makes its key the newest again", async () => {
  await onboardThenPaste();
  const again = await runCli(state, [
    "onboard",
    "--non-interactive",
    "--accept-risk",
    "--auth-choice",
    "chutes-api-key",
    "--chutes-api-key",
    KEY_A,
  ]);
  assert.equal(again.code, 0, again.stderr);
  await runCli(state, ["chat", "hi"]);
  assert.equal(chatAuth().at(-1), `Bearer ${KEY_A}`);
});

test("an auth.order the user set wins, and paste-token says which key is still used", async () => {
  await onboardThenPaste();
  assert.equal((await runCli(state, ["config", "set", "auth.order.chutes", "--json", '["chutes:default"]'])).code, 0);
  const paste = await runCli(state, ["models", "auth", "paste-token", "--provider", "chutes", "--profile-id", "chutes:other"], {
    input: `${KEY_B}\n`,
  });
  assert.equal(paste.code, 0, paste.stderr);
  assert.match(paste.stderr, /chutes requests still use chutes:default \(cpk_…aaaa\), not chutes:other: auth.order.chutes puts it first/);
  assert.ok(!paste.stderr.includes(KEY_A));
  await runCli(state, ["chat", "hi"]);
  assert.equal(chatAuth().at(-1), `Bearer ${KEY_A}`);
});
