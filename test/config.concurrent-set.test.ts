import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import JSON5 from "json5";
import { createTestState, runCli, type TestState } from "./helpers/cli.js";
import { afterEach, beforeEach, test } from "./helpers/test.js";

let state: TestState;
beforeEach(async () => {
  state = await createTestState();
});
afterEach(() => state.cleanup());

test("20 config set processes launched at once on different keys lose no update", async () => {
  await runCli(state, ["config", "set", "gateway.port", "18789"]);
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => runCli(state, ["config", "set", `agents.defaults.models.alias-${i}.alias`, `chutes/model-${i}`])),
  );
  for (const result of results) assert.equal(result.code, 0, result.stderr);
  const config = JSON5.parse(await readFile(state.configPath, "utf8"));
  assert.equal(config.gateway.port, 18789);
  for (let i = 0; i < 20; i++) assert.deepEqual(config.agents.defaults.models[`alias-${i}`], { alias: `chutes/model-${i}` });
});

test("10 paste-token processes at once keep every credential and every profile entry", async () => {
  const results = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      runCli(state, ["models", "auth", "paste-token", "--provider", "chutes", "--profile-id", `chutes:p${i}`], {
        input: `cpk_concurrent_secret_${i}\n`,
      }),
    ),
  );
  for (const result of results) assert.equal(result.code, 0, result.stderr);
  const store = JSON.parse(await readFile(state.authProfilesPath, "utf8"));
  const config = JSON5.parse(await readFile(state.configPath, "utf8"));
  for (let i = 0; i < 10; i++) {
    assert.equal(store.profiles[`chutes:p${i}`].key, `cpk_concurrent_secret_${i}`);
    assert.deepEqual(config.auth.profiles[`chutes:p${i}`], { provider: "chutes", mode: "api_key" });
  }
});
