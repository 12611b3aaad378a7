import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { CLI, createTestState, isOneLineError, type TestState } from "./helpers/cli.js";
import { GATEWAY_TOKEN, jsonOf, startGateway } from "./helpers/gateway.js";
import { afterEach, beforeEach, test } from "./helpers/test.js";

let state: TestState;
beforeEach(async () => {
  state = await createTestState();
});
afterEach(() => state.cleanup());

const databaseFile = () => path.join(state.stateDir, "openclaw.db");

test("a session database that is not SQLite stops the gateway before it listens, in one line", async () => {
  await mkdir(state.stateDir, { recursive: true });
  await writeFile(databaseFile(), "these are not the pages of a SQLite database\n");
  const child = spawn(process.execPath, [CLI, "gateway", "--port", "0"], {
    env: { ...state.env, OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
    if (/listening on/.test(stderr)) child.kill("SIGTERM");
  });
  const code = await new Promise((resolve) => child.on("close", resolve));
  assert.doesNotMatch(stderr, /listening on/);
  assert.notEqual(code, 0);
  assert.ok(isOneLineError(stderr), stderr);
  assert.match(stderr, /openclaw\.db is not a SQLite database/);
});

test("a gateway that has recorded nothing has not opened a session database", async () => {
  const gateway = await startGateway(state);
  try {
    // A request that records nothing (health) is served; no writer was needed for it.
    assert.deepEqual(await jsonOf(await fetch(`${gateway.url}/healthz`)), { ok: true });
  } finally {
    await gateway.stop();
  }
  assert.equal(existsSync(databaseFile()), false);
});
