import assert from "node:assert/strict";
import { createTestState, runCli } from "./helpers/cli.js";
import { test } from "./helpers/test.js";

const RUN_OPTIONS = ["--port", "--bind", "--enable-endpoints", "--drain-timeout"];

test("gateway token --help lists only its own options and the program's", async () => {
  const state = await createTestState();
  try {
    const result = await runCli(state, ["gateway", "token", "--help"]);
    assert.equal(result.code, 0, result.stderr);
    for (const flag of RUN_OPTIONS) assert.ok(!result.stdout.includes(flag), `lists ${flag}:\n${result.stdout}`);
    assert.match(result.stdout, /--verbose/);
    // The run options stay where they belong.
    const run = await runCli(state, ["gateway", "run", "--help"]);
    for (const flag of RUN_OPTIONS) assert.equal(run.stdout.split(flag).length - 1, 1, `gateway run --help lists ${flag} once`);
  } finally {
    await state.cleanup();
  }
});

test("a run option given to gateway token is refused, not silently ignored", async () => {
  const state = await createTestState();
  try {
    const result = await runCli(state, ["gateway", "token", "--port", "1"]);
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /unknown option '--port'/);
    assert.equal(result.stdout, "");
  } finally {
    await state.cleanup();
  }
});
