import assert from "node:assert/strict";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { ENCLAVE_REPLY } from "./helpers/fake-chutes-tee/inner-chat.js";
import { type FakeTeeStack, STACK_MODEL, startFakeTeeStack } from "./helpers/fake-chutes-tee/tee-stack.js";
import { after, before, test } from "./helpers/test.js";

let stack: FakeTeeStack;
let state: TestState;

before(async () => {
  stack = await startFakeTeeStack();
  state = await createTestState({ CHUTES_API_KEY: stack.fleet.credential });
  await writeConfig(state, {
    models: { providers: { chutes: stack.providerConfig() } },
    agents: { defaults: { model: { primary: `chutes/${STACK_MODEL}` } } },
  });
});
after(async () => {
  await stack.close();
  await state.cleanup();
});

test("openclaw chat --verbose on an E2EE model prints one 'verified enclave' line on stderr; without --verbose, none", async () => {
  const verbose = await runCli(state, ["--verbose", "chat", "hello"]);
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.equal(verbose.stdout.trim(), ENCLAVE_REPLY);
  const lines = verbose.stderr.split("\n").filter((line) => line.includes("verified enclave"));
  assert.equal(lines.length, 1, verbose.stderr);
  assert.match(
    lines[0]!,
    /^openclaw: verified enclave inst-[12] \(5e0c3f7a-[\w-]+\), TCB UpToDate, quote sha256 [0-9a-f]{16}…, attested \S+Z$/,
  );
  const quiet = await runCli(state, ["chat", "hello"]);
  assert.equal(quiet.code, 0, quiet.stderr);
  assert.ok(!quiet.stderr.includes("verified enclave"));
  assert.equal(stack.plaintextChats, 0);
});
