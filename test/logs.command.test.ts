import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createTestState, isOneLineError, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type RunningGateway, requestLogs, startGateway } from "./helpers/gateway.js";
import { logFileOf, waitForRequestLine } from "./helpers/log-file.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

// `openclaw logs`: the last lines of the gateway's log, readable or raw. (-f: logs.rotation.)

let state: TestState;
let gateway: RunningGateway | undefined;

before(async () => {
  state = await createTestState();
});
after(async () => {
  await gateway?.stop();
  await state.cleanup();
});

test("with no log file yet, openclaw logs says so in one line and fails", async () => {
  const result = await runCli(state, ["logs"]);
  assert.equal(result.code, 1);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /no gateway log at .*gateway\.log/);
});

test("openclaw logs -n 5 prints the last five lines, readable; --json prints them as stored", async () => {
  gateway = await startGateway(state);
  for (let index = 1; index <= 8; index++)
    await fetch(`${gateway.url}/healthz`, { headers: { "x-request-id": `tail-${index}` } }).then((response) => response.text());
  await waitForRequestLine(state.stateDir, "tail-8");
  const stored = readFileSync(logFileOf(state.stateDir), "utf8").trimEnd().split("\n");

  const raw = await runCli(state, ["logs", "-n", "5", "--json"]);
  assert.equal(raw.code, 0, raw.stderr);
  assert.deepEqual(raw.stdout.trimEnd().split("\n"), stored.slice(-5));

  const readable = await runCli(state, ["logs", "-n", "5"]);
  assert.equal(readable.code, 0, readable.stderr);
  const lines = readable.stdout.trimEnd().split("\n");
  assert.equal(lines.length, 5);
  assert.match(lines.at(-1) ?? "", /^\d\d:\d\d:\d\d\.\d{3} 200 GET \/healthz [\d.]+ms tail-8$/);
  assert.match(lines.at(-2) ?? "", /tail-7$/);
  assert.ok(!lines.some((line) => line.startsWith("{")));
});

test("a bad -n is refused in one line", async () => {
  const result = await runCli(state, ["logs", "-n", "many"]);
  assert.notEqual(result.code, 0);
  assert.ok(isOneLineError(result.stderr), result.stderr);
});

test("with gateway.logs.file false the gateway writes no log file, and openclaw logs says there is none", async () => {
  const quiet = await createTestState();
  try {
    await writeConfig(quiet, { gateway: { logs: { file: false } } });
    const running = await startGateway(quiet);
    try {
      await fetch(`${running.url}/healthz`, { headers: { "x-request-id": "no-file" } }).then((response) => response.text());
      await waitUntil(() => requestLogs(running).some((entry) => entry.requestId === "no-file"), { what: "the stdout line" });
    } finally {
      await running.stop();
    }
    assert.ok(!existsSync(logFileOf(quiet.stateDir)));
    const result = await runCli(quiet, ["logs"]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no gateway log/);
  } finally {
    await quiet.cleanup();
  }
});
