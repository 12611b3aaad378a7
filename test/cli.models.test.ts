import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, fixtureJson, startFakeChutes, startFakeHuggingFace } from "./helpers/fake-upstream.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

const CHUTES_KEY = "cpk_FAKE-test-key-not-a-real-credential.0000.a1b2";

let chutes: FakeUpstream;
let hf: FakeUpstream;
let state: TestState;
before(async () => {
  chutes = await startFakeChutes();
  hf = await startFakeHuggingFace();
});
after(async () => {
  await chutes.close();
  await hf.close();
});
beforeEach(async () => {
  state = await createTestState({ CHUTES_API_KEY: CHUTES_KEY });
  chutes.requests.length = 0;
  hf.requests.length = 0;
  chutes.route("GET /models", { body: fixtureJson("chutes-models.json") });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE", fallbacks: ["chutes/zai-org/GLM-5.1-TEE"] } } },
  });
});
afterEach(() => state.cleanup());

const modelRequests = () => chutes.requests.filter((request) => request.path === "/v1/models").length;
const cacheFile = () => path.join(state.stateDir, "cache", "models", "chutes.json");

test("models list shows the discovered catalog in a table that fits 80 columns", async () => {
  const result = await runCli(state, ["models", "list"]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split("\n");
  for (const line of lines) assert.ok(line.length <= 80, `too wide (${line.length}): ${line}`);
  assert.match(result.stdout, /chutes · credential: env CHUTES_API_KEY \(cpk_…a1b2\)(\n {2}| · )catalog: live/);
  assert.match(result.stdout, /\*\s+chutes\/Qwen\/Qwen3-32B-TEE\s+41k\s+text\s+declared/);
  assert.match(result.stdout, /\+\s+chutes\/zai-org\/GLM-5\.1-TEE/);
  assert.match(result.stdout, /chutes\/unsloth\/gemma-3-12b-it\s+131k\s+img\s+no/);
  assert.ok(!result.stdout.includes(CHUTES_KEY));
});

test("models list --json has every field, marks and credential presence", async () => {
  const result = await runCli(state, ["models", "list", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout);
  const qwen = body.models.find((model: { ref: string }) => model.ref === "chutes/Qwen/Qwen3-32B-TEE");
  assert.equal(qwen.default, true);
  assert.equal(qwen.credential, true);
  assert.equal(qwen.confidentialCompute, true);
  assert.deepEqual(qwen.cost, { input: 0.104, output: 0.416, cacheRead: 0.052 });
  assert.equal(body.models.find((model: { ref: string }) => model.ref === "chutes/zai-org/GLM-5.1-TEE").fallback, true);
  assert.deepEqual(body.providers[0].credential, { source: "env", origin: "CHUTES_API_KEY", redacted: "cpk_…a1b2" });
  assert.equal(body.providers[0].source, "live");
});

test("a warm cache answers without calling the provider; --refresh calls it", async () => {
  await runCli(state, ["models", "list"]);
  assert.equal(modelRequests(), 1);
  const cached = await runCli(state, ["models", "list", "--json"]);
  assert.equal(JSON.parse(cached.stdout).providers[0].source, "cached");
  assert.equal(modelRequests(), 1);
  const refreshed = await runCli(state, ["models", "list", "--refresh", "--json"]);
  assert.equal(JSON.parse(refreshed.stdout).providers[0].source, "live");
  assert.equal(modelRequests(), 2);
});

test("a stale cache is served at once and refreshed in the background", async () => {
  await runCli(state, ["models", "list"]);
  const entry = JSON.parse(await readFile(cacheFile(), "utf8"));
  entry.fetchedAt = Date.now() - 5 * 60 * 60 * 1000;
  entry.models = entry.models.slice(0, 1);
  await writeFile(cacheFile(), JSON.stringify(entry));
  const stale = JSON.parse((await runCli(state, ["models", "list", "--json"])).stdout);
  assert.equal(stale.providers[0].source, "cached");
  assert.equal(stale.providers[0].stale, true);
  assert.equal(stale.models.length, 1);
  assert.equal(modelRequests(), 2);
  const fresh = JSON.parse(await readFile(cacheFile(), "utf8"));
  assert.equal(fresh.models.length, 4);
  assert.ok(fresh.fetchedAt > entry.fetchedAt);
});

test("the TTL is configurable", async () => {
  await writeConfig(state, { models: { discoveryTtlSeconds: 60, providers: { chutes: { baseUrl: chutes.url } } } });
  await runCli(state, ["models", "list"]);
  // Age the cache entry rather than wait: 30 s old is fresh under a 60 s TTL, 90 s old is stale.
  const age = async (seconds: number) => {
    const entry = JSON.parse(await readFile(cacheFile(), "utf8"));
    entry.fetchedAt = Date.now() - seconds * 1000;
    await writeFile(cacheFile(), JSON.stringify(entry));
    return JSON.parse((await runCli(state, ["models", "list", "--json"])).stdout).providers[0];
  };
  assert.equal((await age(30)).stale, false);
  assert.equal((await age(90)).stale, true);
});

test("models list works offline: from the cache, else the built-in catalog with a one-line warning", async () => {
  await runCli(state, ["models", "list"]);
  chutes.route("GET /models", { destroy: true });
  const fromCache = await runCli(state, ["models", "list", "--json"]);
  assert.equal(fromCache.code, 0);
  assert.equal(JSON.parse(fromCache.stdout).models.length, 4);
  const other = await createTestState({ CHUTES_API_KEY: CHUTES_KEY });
  try {
    await writeConfig(other, { models: { providers: { chutes: { baseUrl: chutes.url } } } });
    const builtin = await runCli(other, ["models", "list", "--json"]);
    assert.equal(builtin.code, 0, builtin.stderr);
    assert.equal(JSON.parse(builtin.stdout).providers[0].source, "builtin");
    assert.ok(JSON.parse(builtin.stdout).models.some((model: { id: string }) => model.id === "zai-org/GLM-4.7-TEE"));
    const warnings = builtin.stderr.trim().split("\n");
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] ?? "",
      /^openclaw: warning: chutes model discovery failed \(cannot reach chutes .*\); using the built-in catalog$/,
    );
  } finally {
    await other.cleanup();
  }
});

test("teeOnly hides models that do not run in a TEE", async () => {
  await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url, teeOnly: true } } } });
  const body = JSON.parse((await runCli(state, ["models", "list", "--json"])).stdout);
  assert.deepEqual(
    body.models.map((model: { id: string }) => model.id),
    ["Qwen/Qwen3-32B-TEE", "Qwen/Qwen3.5-397B-A17B-TEE", "zai-org/GLM-5.1-TEE"],
  );
  const flag = JSON.parse((await runCli(state, ["models", "list", "--json", "--tee"])).stdout);
  assert.equal(flag.models.length, 3);
});

test("user model entries are merged in and win", async () => {
  await writeConfig(state, {
    models: {
      providers: {
        chutes: {
          baseUrl: chutes.url,
          models: [{ id: "Qwen/Qwen3-32B-TEE", name: "My Qwen", contextWindow: 32768 }, { id: "me/private" }],
        },
      },
    },
  });
  const body = JSON.parse((await runCli(state, ["models", "list", "--json"])).stdout);
  const qwen = body.models.find((model: { id: string }) => model.id === "Qwen/Qwen3-32B-TEE");
  assert.equal(qwen.name, "My Qwen");
  assert.equal(qwen.contextWindow, 32768);
  assert.equal(qwen.confidentialCompute, true);
  assert.ok(body.models.some((model: { id: string }) => model.id === "me/private"));
});

test("Hugging Face models appear with hydrated names once a token is set", async () => {
  await writeConfig(state, { models: { providers: { huggingface: { baseUrl: hf.url } } } });
  const result = await runCli(state, ["models", "list", "--provider", "huggingface", "--json"], {
    env: { HF_TOKEN: "hf_test_token_123456" },
  });
  assert.equal(result.code, 0, result.stderr);
  const names = JSON.parse(result.stdout).models.map((model: { name: string }) => model.name);
  assert.ok(names.includes("DeepSeek V4 Pro"));
  assert.ok(names.includes("Llama 3.3 70B Instruct"));
});

test("models status reports default, fallbacks, aliases and credential sources, redacted", async () => {
  await runCli(state, ["models", "list"]);
  const result = await runCli(state, ["models", "status", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout);
  assert.equal(body.defaultModel, "chutes/Qwen/Qwen3-32B-TEE");
  assert.deepEqual(body.fallbacks, ["chutes/zai-org/GLM-5.1-TEE"]);
  assert.equal(body.aliases["chutes-fast"], "chutes/zai-org/GLM-4.7-FP8");
  assert.deepEqual(body.providers[0].credential, { source: "env", origin: "CHUTES_API_KEY", mode: "api_key", redacted: "cpk_…a1b2" });
  assert.equal(body.providers[0].catalog.source, "cached");
  assert.equal(body.ok, true);
  assert.ok(!result.stdout.includes(CHUTES_KEY));
  const text = await runCli(state, ["models", "status"]);
  assert.match(text.stdout, /chutes: env CHUTES_API_KEY \(cpk_…a1b2\); catalog cached, just now, 4 models/);
});

test("models status --check exits 1 when the default model's provider has no credential", async () => {
  const ok = await runCli(state, ["models", "status", "--check"]);
  assert.equal(ok.code, 0);
  const missing = await runCli(state, ["models", "status", "--check"], { env: { CHUTES_API_KEY: "" } });
  assert.equal(missing.code, 1);
  assert.match(missing.stdout, /has no credential/);
});
