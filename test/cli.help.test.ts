import assert from "node:assert/strict";
import type { Command } from "commander";
import { createProgram } from "../src/cli/program.js";
import { createTestState, isOneLineError, runCli } from "./helpers/cli.js";
import { test } from "./helpers/test.js";

function walk(command: Command, path: string[] = []): Array<{ path: string[]; command: Command }> {
  return [{ path, command }, ...command.commands.flatMap((child) => walk(child, [...path, child.name()]))];
}

test("--help of the program and of every subcommand describes every flag", async () => {
  const state = await createTestState();
  try {
    for (const { path, command } of walk(createProgram())) {
      const result = await runCli(state, [...path, "--help"]);
      assert.equal(result.code, 0, `${path.join(" ")}: ${result.stderr}`);
      assert.ok(command.description(), `${path.join(" ") || "openclaw"} has no description`);
      for (const option of command.options) {
        assert.ok(option.description, `${path.join(" ")} ${option.flags} has no description`);
        assert.ok(result.stdout.includes(option.long ?? option.flags), `${path.join(" ")} --help does not list ${option.flags}`);
      }
      for (const child of command.commands)
        assert.ok(result.stdout.includes(child.name()), `${path.join(" ")} --help does not list ${child.name()}`);
    }
  } finally {
    await state.cleanup();
  }
});

test("an unknown command or a missing option is one line and a non-zero exit", async () => {
  const state = await createTestState();
  try {
    const unknown = await runCli(state, ["frobnicate"]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /unknown command 'frobnicate'/);
    const missing = await runCli(state, ["models", "auth", "paste-token"]);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /required option '--provider <id>' not specified/);
    const badPath = await runCli(state, ["config", "get", 'auth.profiles."unterminated']);
    assert.notEqual(badPath.code, 0);
    assert.ok(isOneLineError(badPath.stderr), badPath.stderr);
  } finally {
    await state.cleanup();
  }
});
