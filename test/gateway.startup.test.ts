import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { CLI, createTestState, isOneLineError, type TestState, writeConfig } from "./helpers/cli.js";
import { GATEWAY_TOKEN, jsonOf, startGateway } from "./helpers/gateway.js";
import { afterEach, beforeEach, test } from "./helpers/test.js";

let state: TestState;

beforeEach(async () => {
  state = await createTestState();
});
afterEach(() => state.cleanup());

/** Run `openclaw gateway`; a gateway that starts listening is stopped and reported as started. */
function tryStart(args: string[] = []): Promise<{ code: number | null; stderr: string; started: boolean }> {
  const child = spawn(process.execPath, [CLI, "gateway", "--port", "0", ...args], {
    env: { ...state.env, OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  let started = false;
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
    if (!started && /listening on/.test(stderr)) {
      started = true;
      child.kill("SIGTERM");
    }
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stderr, started })));
}

test("a configured provider without a baseUrl stops the gateway before it listens, in one line", async () => {
  await writeConfig(state, { models: { providers: { "my-vllm": { api: "openai-completions" } } } });
  const result = await tryStart();
  assert.equal(result.started, false, result.stderr);
  assert.notEqual(result.code, 0);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /models\.providers\.my-vllm\.baseUrl/);
});

test("a default model on an unknown provider stops the gateway before it listens", async () => {
  await writeConfig(state, { agents: { defaults: { model: { primary: "nowhere/some-model" } } } });
  const result = await tryStart();
  assert.equal(result.started, false, result.stderr);
  assert.notEqual(result.code, 0);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /agent main: unknown model "nowhere\/some-model"/);
});

test("an address the gateway cannot bind is one line and a non-zero exit", async () => {
  const result = await tryStart(["--bind", "203.0.113.254"]);
  assert.equal(result.started, false, result.stderr);
  assert.notEqual(result.code, 0);
  assert.ok(isOneLineError(result.stderr), result.stderr);
});

test("with no provider credential the banner and the first request say to run openclaw onboard", async () => {
  const gateway = await startGateway(state);
  try {
    assert.match(gateway.stderr(), /no provider credential yet: run `openclaw onboard`/);
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }),
    });
    assert.equal(response.status, 503);
    const { error } = await jsonOf(response);
    assert.equal(error.code, "gateway_not_configured");
    assert.match(error.message, /openclaw onboard/);
  } finally {
    assert.equal(await gateway.stop(), 0);
  }
  // Nobody configured a provider: nothing was discovered, so nothing to warn about.
  assert.ok(!/discovery failed/.test(gateway.stdout()), gateway.stdout());
});

test("with no provider credential nothing is discovered, even when /v1/models is asked", async () => {
  const { startFakeChutes } = await import("./helpers/fake-upstream.js");
  const chutes = await startFakeChutes();
  // Chutes is configured (its base URL points here) but holds no credential.
  await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url } } } });
  const gateway = await startGateway(state);
  try {
    const response = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
    assert.equal(response.status, 200);
    assert.deepEqual((await jsonOf(response)).data, []);
  } finally {
    assert.equal(await gateway.stop(), 0);
    await chutes.close();
  }
  assert.deepEqual(
    chutes.requests.map((request) => request.path),
    [],
  );
  assert.ok(!/discovery failed/.test(gateway.stdout()), gateway.stdout());
});
