import assert from "node:assert/strict";
import { createTestState, isOneLineError, runCli, type TestState } from "./helpers/cli.js";
import { GATEWAY_TOKEN, requestLogs, startGateway } from "./helpers/gateway.js";
import { spawnCliInPty } from "./helpers/pty.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

// stdout: JSON lines for machines (not a terminal, or --log-format json), one readable coloured
// line per request for a person at a terminal.

let state: TestState;

before(async () => {
  state = await createTestState();
});
after(async () => {
  await state.cleanup();
});

const ANSI = new RegExp(`${"\u001b"}\\[[0-9;]*m`, "g");

/** The gateway in a real pseudo-terminal, with colours allowed (the test env turns them off). */
function gatewayInTerminal(args: string[] = []) {
  // A person's terminal: Node also takes colours away when `CI` is set (as CI runs this suite).
  const { NO_COLOR: _noColor, CI: _ci, ...env } = state.env;
  return spawnCliInPty(["gateway", "--port", "0", ...args], { ...env, OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN, TERM: "xterm-256color" });
}

async function urlOf(session: ReturnType<typeof spawnCliInPty>): Promise<string> {
  await session.waitFor(/listening on http:\/\/\S+\r?\n/);
  return /listening on (http:\/\/[^\s]+)/.exec(session.output())?.[1] as string;
}

test("not on a terminal, stdout gets one JSON line per request", async () => {
  const gateway = await startGateway(state);
  try {
    await fetch(`${gateway.url}/healthz`, { headers: { "x-request-id": "json-probe" } });
    const line = await waitUntil(() => requestLogs(gateway).find((entry) => entry.requestId === "json-probe"), { what: "the line" });
    assert.equal(line.status, 200);
    assert.equal(line.path, "/healthz");
  } finally {
    await gateway.stop();
  }
});

test("on a terminal, one readable coloured line per request: time, status, method, path, ms, request id", async () => {
  const session = gatewayInTerminal();
  try {
    const url = await urlOf(session);
    await fetch(`${url}/healthz`, { headers: { "x-request-id": "pty-probe" } });
    await fetch(`${url}/v1/models`, { headers: { "x-request-id": "pty-refused" } });
    await session.waitFor(/pty-refused/);
    const lines = session.output().split(/\r?\n/);
    const ok = lines.find((line) => line.includes("pty-probe")) ?? "";
    assert.match(ok.replace(ANSI, ""), /^\d\d:\d\d:\d\d\.\d{3} 200 GET \/healthz [\d.]+ms pty-probe$/);
    assert.ok(ok.includes("\x1b[32m200\x1b[0m"), `the status is not green: ${JSON.stringify(ok)}`);
    const refused = lines.find((line) => line.includes("pty-refused")) ?? "";
    assert.match(refused.replace(ANSI, ""), /^\d\d:\d\d:\d\d\.\d{3} 401 GET \/v1\/models [\d.]+ms pty-refused error: missing bearer token/);
    assert.ok(refused.includes("\x1b[33m401\x1b[0m"), `a 4xx is not yellow: ${JSON.stringify(refused)}`);
    assert.ok(!lines.some((line) => line.startsWith("{")));
  } finally {
    session.kill();
  }
});

test("--log-format json keeps JSON lines on a terminal", async () => {
  const session = gatewayInTerminal(["--log-format", "json"]);
  try {
    const url = await urlOf(session);
    await fetch(`${url}/healthz`, { headers: { "x-request-id": "pty-json" } });
    await session.waitFor(/pty-json/);
    const line = session
      .output()
      .split(/\r?\n/)
      .find((text) => text.includes("pty-json"));
    assert.equal(JSON.parse(line ?? "").requestId, "pty-json");
  } finally {
    session.kill();
  }
});

test("an unknown --log-format is refused in one line", async () => {
  const result = await runCli(state, ["gateway", "--port", "0", "--log-format", "yaml"]);
  assert.notEqual(result.code, 0);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /--log-format must be pretty or json/);
});
