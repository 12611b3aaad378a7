import assert from "node:assert/strict";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, fixtureJson, type Handler, startFakeChutes, startFakeHuggingFace } from "./helpers/fake-upstream.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

const CHUTES_KEY = "cpk_FAKE-test-key-not-a-real-credential.0000.a1b2";
const HF_TOKEN = "hf_FAKEtesttokennotarealcredential0000";

let chutes: FakeUpstream;
let hf: FakeUpstream;
let state: TestState;
/** The fake's own chat route, put back before each test (some tests replace it). */
let chatRoute: Handler;
before(async () => {
  chutes = await startFakeChutes();
  chatRoute = chutes.routes.get("POST /chat/completions") as Handler;
  hf = await startFakeHuggingFace();
});
after(async () => {
  await chutes.close();
  await hf.close();
});
beforeEach(async () => {
  chutes.routes.set("POST /chat/completions", chatRoute);
  chutes.requests.length = 0;
  hf.requests.length = 0;
  state = await createTestState({ CHUTES_API_KEY: CHUTES_KEY, HF_TOKEN });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url }, huggingface: { baseUrl: hf.url } } },
    agents: { defaults: { model: "chutes/Qwen/Qwen3-32B-TEE" } },
  });
});
afterEach(() => state.cleanup());

interface Probe {
  provider: string;
  status: string;
  model: string | null;
  models: number | null;
  detail: string | null;
}

test("--probe makes one listing and a one-token chat per provider with its credential, and reports both", async () => {
  const result = await runCli(state, ["models", "status", "--probe", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout);
  const byProvider = new Map<string, Probe>(body.probe.map((probe: Probe) => [probe.provider, probe]));
  assert.equal(byProvider.get("chutes")?.status, "ok");
  assert.equal(byProvider.get("chutes")?.model, "chutes/Qwen/Qwen3-32B-TEE");
  assert.equal(byProvider.get("chutes")?.models, fixtureJson<{ data: unknown[] }>("chutes-models.json").data.length);
  assert.equal(byProvider.get("huggingface")?.status, "ok");
  const chat = chutes.requests.find((request) => request.path === "/v1/chat/completions");
  assert.equal(chat?.headers.authorization, `Bearer ${CHUTES_KEY}`);
  assert.equal((chat?.body as { max_tokens: number } | undefined)?.max_tokens, 1);
  assert.equal(hf.requests.find((request) => request.path === "/v1/chat/completions")?.headers.authorization, `Bearer ${HF_TOKEN}`);
  assert.ok(!result.stdout.includes(CHUTES_KEY) && !result.stdout.includes(HF_TOKEN));

  const text = await runCli(state, ["models", "status", "--probe"]);
  assert.equal(text.code, 0, text.stderr);
  assert.match(
    text.stdout,
    /Probe \(live\):\n {2}chutes: credential accepted \(chutes\/Qwen\/Qwen3-32B-TEE\); chat \d+ ms, \d+ models listed in \d+ ms/,
  );
});

test("without --probe, status makes no network call", async () => {
  const result = await runCli(state, ["models", "status", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).probe, undefined);
  assert.equal(chutes.requests.filter((request) => request.path === "/v1/chat/completions").length, 0);
});

test("a refused credential is reported as refused, exits 1, and never shows the key", async () => {
  chutes.route("POST /chat/completions", { status: 401, body: { detail: `Invalid API key ${CHUTES_KEY}` } });
  const result = await runCli(state, ["models", "status", "--probe"]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /chutes: credential refused/);
  assert.match(result.stdout, /huggingface: credential accepted/);
  assert.match(result.stdout, /Problem: probe of chutes: /);
  assert.ok(!result.stdout.includes(CHUTES_KEY) && !result.stderr.includes(CHUTES_KEY));
});

test("a provider that is down is reported unreachable within the probe timeout, and exits 1", async () => {
  const down = await startFakeChutes();
  await down.close();
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: down.url }, huggingface: { baseUrl: hf.url } } },
    agents: { defaults: { model: "chutes/Qwen/Qwen3-32B-TEE" } },
  });
  const result = await runCli(state, ["models", "status", "--probe", "--json", "--probe-timeout", "5000"]);
  assert.equal(result.code, 1);
  const chutesProbe = JSON.parse(result.stdout).probe.find((probe: Probe) => probe.provider === "chutes");
  assert.equal(chutesProbe.status, "unreachable");
  assert.equal(chutesProbe.models, null);
});

test("a hung provider is cut off at --probe-timeout", async () => {
  chutes.route("POST /chat/completions", { hang: true });
  const result = await runCli(state, ["models", "status", "--probe", "--json", "--probe-timeout", "300"]);
  assert.equal(result.code, 1);
  const probe = JSON.parse(result.stdout).probe.find((entry: Probe) => entry.provider === "chutes");
  assert.equal(probe.status, "unreachable");
  assert.match(probe.detail, /no answer within 300 ms/);
});

test("--probe-timeout must be a sane number", async () => {
  const result = await runCli(state, ["models", "status", "--probe", "--probe-timeout", "soon"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /--probe-timeout must be a whole number/);
});
