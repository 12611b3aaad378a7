import assert from "node:assert/strict";
import { createTestState, isOneLineError, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

const KEY = "cpk_FAKE-echoed-key-not-a-real-credential.0000.e5e5";

let chutes: FakeUpstream;
let state: TestState;
before(async () => {
  chutes = await startFakeChutes();
});
after(() => chutes.close());
beforeEach(async () => {
  state = await createTestState({ CHUTES_API_KEY: KEY });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
  });
});
afterEach(() => state.cleanup());

test("an upstream error that quotes our Authorization header never puts the key on the CLI's error line", async () => {
  for (const status of [401, 400, 500]) {
    chutes.route("POST /chat/completions", { status, body: { detail: `rejected header Authorization: Bearer ${KEY}` } });
    for (const args of [
      ["chat", "hi"],
      ["--verbose", "chat", "hi"],
    ]) {
      const result = await runCli(state, args);
      assert.notEqual(result.code, 0);
      assert.ok(!result.stderr.includes(KEY) && !result.stdout.includes(KEY), `${status} ${args.join(" ")}:\n${result.stderr}`);
      if (args.length === 2) assert.ok(isOneLineError(result.stderr), result.stderr);
    }
  }
});
