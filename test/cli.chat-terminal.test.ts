import assert from "node:assert/strict";
import { createTestState, isOneLineError, runCli, runShell, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, fixtureEvents, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { spawnCliInPty } from "./helpers/pty.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

let chutes: FakeUpstream;
let state: TestState;
before(async () => {
  chutes = await startFakeChutes();
});
after(() => chutes.close());
beforeEach(async () => {
  state = await createTestState({ CHUTES_API_KEY: "cpk_FAKE-test-key-not-a-real-credential.0000.a1b2" });
  chutes.requests.length = 0;
  chutes.route("POST /chat/completions", { events: wordStream(["Hello", " from", " Chutes"]) });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
  });
});
afterEach(() => state.cleanup());

const chatBodies = () =>
  chutes.requests.filter((request) => request.path === "/v1/chat/completions").map((request) => request.body as { messages: unknown[] });

test("an answer that only calls tools prints each call with its arguments, not a blank line", async () => {
  chutes.route("POST /chat/completions", { events: fixtureEvents("openai-chat-stream-tools-usage.sse") });
  const result = await runCli(state, ["chat", "weather in Boston?"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, 'tool call: get_current_weather {"location": "Boston, MA"}\ntool call: get_time {}\n');
});

test("a mid-stream error starts on its own line, after the partial answer", async () => {
  const words = wordStream(["Hello", " there"]).slice(0, 3);
  chutes.route("POST /chat/completions", { events: [...words, { error: { message: "the model crashed", type: "server_error" } }] });
  const separate = await runCli(state, ["chat", "hi"]);
  assert.notEqual(separate.code, 0);
  assert.equal(separate.stdout, "Hello there\n");
  assert.ok(isOneLineError(separate.stderr), separate.stderr);
  // As a terminal shows it: both streams in one.
  const merged = await runShell(state, "openclaw chat hi 2>&1 || true");
  assert.match(merged.stdout, /^Hello there\nopenclaw: .*the model crashed/);
});

test("/help in the interactive chat lists the slash commands and is not sent to the model", async () => {
  const session = spawnCliInPty(["chat"], state.env);
  await session.waitFor(/you> /);
  session.write("/help\r");
  await session.waitFor(/\/model REF[\s\S]*\/reset[\s\S]*\/exit[\s\S]*you> /);
  session.write("/halp\r");
  await session.waitFor(/unknown command \/halp: \/help lists the commands/);
  session.write("hi\r");
  await session.waitFor(/Hello from Chutes[\s\S]*you> /);
  session.write("/exit\r");
  assert.equal(await session.exit, 0);
  assert.deepEqual(
    chatBodies().map((body) => body.messages),
    [[{ role: "user", content: "hi" }]],
  );
});

test("Ctrl-D leaves the interactive chat on a fresh line", async () => {
  const session = spawnCliInPty(["chat"], state.env);
  await session.waitFor(/you> /);
  session.write("\x04");
  assert.equal(await session.exit, 0);
  // Cursor moves and clears are not text: what is left must end the prompt's line.
  const text = session.output().replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, "g"), "");
  assert.match(text, /you> \r?\n$/);
});

test("escape sequences in an answer never reach the terminal; piped output is left exact", async () => {
  const hostile = ["safe ", "\u001b]0;pwned\u0007", "\u001b[2J", "\u001b]52;c;aGk=\u0007", "text"];
  chutes.route("POST /chat/completions", { events: wordStream(hostile) });
  const session = spawnCliInPty(["chat", "hi"], state.env);
  assert.equal(await session.exit, 0, session.output());
  assert.match(session.output(), /safe .*text/);
  assert.ok(!session.output().includes("\u001b]0;"), JSON.stringify(session.output()));
  assert.ok(!session.output().includes("\u001b[2J"), JSON.stringify(session.output()));
  assert.ok(!session.output().includes("\u001b]52"), JSON.stringify(session.output()));
  const piped = await runCli(state, ["chat", "hi"]);
  assert.equal(piped.stdout, `${hostile.join("")}\n`);
});
