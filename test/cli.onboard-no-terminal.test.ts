import assert from "node:assert/strict";
import { stat } from "node:fs/promises";
import { createTestState, isOneLineError, runCli, runShell, type TestState } from "./helpers/cli.js";
import { afterEach, beforeEach, test } from "./helpers/test.js";

let state: TestState;
beforeEach(async () => {
  state = await createTestState();
});
afterEach(() => state.cleanup());

test("onboard without a terminal says it needs one or --non-interactive, exits 2 and writes nothing", async () => {
  const result = await runCli(state, ["onboard"], { input: "\n\n" });
  assert.equal(result.code, 2, `${result.stdout}${result.stderr}`);
  assert.equal(result.stdout, "", "no prompt drawn into the pipe");
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /terminal.*--non-interactive/);
  await assert.rejects(stat(state.configPath));
  await assert.rejects(stat(state.authProfilesPath));
});

test("a script piping only stdout (stdin from /dev/null) gets the same answer", async () => {
  const result = await runShell(state, "openclaw onboard --auth-choice chutes-api-key </dev/null | cat");
  assert.equal(result.code, 2, `${result.stdout}${result.stderr}`);
  assert.ok(isOneLineError(result.stderr), result.stderr);
});
