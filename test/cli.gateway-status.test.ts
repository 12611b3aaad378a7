import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { createTestState, ROOT, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { startGateway } from "./helpers/gateway.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

const CHUTES_KEY = "cpk_FAKE-test-key-not-a-real-credential.0000.a1b2";
const { version } = JSON.parse(await readFile(path.join(ROOT, "package.json"), "utf8")) as { version: string };

let chutes: FakeUpstream;
let state: TestState;
before(async () => {
  chutes = await startFakeChutes();
});
after(() => chutes.close());
beforeEach(async () => {
  state = await createTestState({ CHUTES_API_KEY: CHUTES_KEY });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: "chutes-fast" } },
  });
});
afterEach(() => state.cleanup());

const recordFile = () => path.join(state.stateDir, "run", "gateway.json");

test("gateway status: not running → exit 1 and how to start one", async () => {
  const result = await runCli(state, ["gateway", "status"]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /Gateway: not running/);
  assert.match(result.stdout, /openclaw gateway/);
  const json = await runCli(state, ["gateway", "status", "--json"]);
  assert.equal(json.code, 1);
  assert.equal(JSON.parse(json.stdout).running, false);
});

test("gateway status finds the running gateway of this state dir: address, version, health; the record holds no secret", async () => {
  const gateway = await startGateway(state);
  try {
    // The record is written just after the banner.
    await waitUntil(async () => (await runCli(state, ["gateway", "status"])).code === 0, { what: "the gateway record" });
    const result = await runCli(state, ["gateway", "status", "--json"]);
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout);
    assert.equal(body.running, true);
    assert.equal(body.healthy, true);
    assert.equal(body.record.url, gateway.url);
    assert.equal(body.record.pid, gateway.child.pid);
    assert.equal(body.record.version, version);
    const text = await runCli(state, ["gateway", "status"]);
    assert.match(text.stdout, new RegExp(`Gateway: running \\(pid ${gateway.child.pid}, version ${version.replace(/\./g, "\\.")}, up `));
    assert.match(text.stdout, /health: {2}ok \(\d+ ms\)/);
    const record = await readFile(recordFile(), "utf8");
    assert.ok(!record.includes(CHUTES_KEY) && !record.includes("test-gateway-token"));
    assert.equal((await stat(recordFile())).mode & 0o777, 0o600);
  } finally {
    await gateway.stop();
  }
  // A clean stop removes the record.
  const afterStop = await runCli(state, ["gateway", "status", "--json"]);
  assert.equal(afterStop.code, 1);
  assert.match(JSON.parse(afterStop.stdout).reason, /no gateway has recorded itself/);
});

test("a gateway that died without cleaning up is reported as not running", async () => {
  const gateway = await startGateway(state);
  await waitUntil(async () => (await runCli(state, ["gateway", "status"])).code === 0, { what: "the gateway record" });
  gateway.child.kill("SIGKILL");
  await gateway.exited;
  const result = await runCli(state, ["gateway", "status"]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, new RegExp(`pid ${gateway.child.pid} is not running`));
});

test("a gateway that stopped answering is running but not healthy (exit 1)", async () => {
  const gateway = await startGateway(state);
  try {
    await waitUntil(async () => (await runCli(state, ["gateway", "status"])).code === 0, { what: "the gateway record" });
    gateway.child.kill("SIGSTOP");
    const result = await runCli(state, ["gateway", "status", "--json"]);
    assert.equal(result.code, 1);
    const body = JSON.parse(result.stdout);
    assert.equal(body.running, true);
    assert.equal(body.healthy, false);
    assert.match(body.health.detail, /no answer within/);
  } finally {
    gateway.child.kill("SIGCONT");
    await gateway.stop();
  }
});

test("the start banner names the providers with credentials, the default model, the endpoints and how to get the token", async () => {
  const gateway = await startGateway(state);
  try {
    const banner = gateway.stderr();
    assert.match(banner, /providers: {5}chutes \(CHUTES_API_KEY\)/);
    assert.match(banner, /default model: chutes-fast → chutes\/zai-org\/GLM-4\.7-FP8/);
    assert.match(banner, /POST \/v1\/chat\/completions: on/);
    assert.match(banner, /openclaw gateway token/);
    assert.ok(!banner.includes(CHUTES_KEY));
  } finally {
    await gateway.stop();
  }
});

test("with no provider the banner says to run onboard", async () => {
  const empty = await createTestState();
  try {
    const gateway = await startGateway(empty);
    try {
      assert.match(gateway.stderr(), /providers: {5}none/);
      assert.match(gateway.stderr(), /run `openclaw onboard`/);
    } finally {
      await gateway.stop();
    }
  } finally {
    await empty.cleanup();
  }
});
