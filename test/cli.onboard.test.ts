import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { createTestState, isOneLineError, readConfig, readStore, runShell, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeHuggingFace } from "./helpers/fake-upstream.js";
import { spawnCliInPty } from "./helpers/pty.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

const CHUTES_KEY = "cpk_FAKE-test-key-not-a-real-credential.0000.a1b2";
const HF_KEY = "hf_FAKE_test_token_6789";

// Verbatim from the seeds (000 and 003).
const CHUTES_SEED = `openclaw onboard --non-interactive \\
  --accept-risk \\
  --auth-choice chutes-api-key \\
  --chutes-api-key "$CHUTES_API_KEY"`;
const HF_SEED = `openclaw onboard --non-interactive \\
  --mode local \\
  --auth-choice huggingface-api-key \\
  --huggingface-api-key "$HF_TOKEN"`;

let state: TestState;
beforeEach(async () => {
  state = await createTestState({ CHUTES_API_KEY: CHUTES_KEY, HF_TOKEN: HF_KEY });
});
afterEach(() => state.cleanup());

test("the Chutes seed's non-interactive onboarding works verbatim", async () => {
  const result = await runShell(state, CHUTES_SEED);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Chutes is set up: credential chutes:default \(cpk_…a1b2\)/);
  assert.ok(!result.stdout.includes(CHUTES_KEY));
  const config = await readConfig(state);
  assert.deepEqual(config.models.providers.chutes, { baseUrl: "https://llm.chutes.ai/v1", api: "openai-completions" });
  assert.deepEqual(config.auth.profiles["chutes:default"], { provider: "chutes", mode: "api_key" });
  assert.deepEqual(config.agents.defaults.model, { primary: "chutes/zai-org/GLM-4.7-TEE" });
  assert.deepEqual(config.agents.defaults.models, {
    "chutes-fast": { alias: "chutes/zai-org/GLM-4.7-FP8" },
    "chutes-pro": { alias: "chutes/deepseek-ai/DeepSeek-V3.2-TEE" },
    "chutes-vision": { alias: "chutes/chutesai/Mistral-Small-3.2-24B-Instruct-2506" },
  });
  assert.equal((await readStore(state)).profiles["chutes:default"].key, CHUTES_KEY);
  assert.ok(!(await readFile(state.configPath, "utf8")).includes(CHUTES_KEY));
});

test("the Hugging Face seed's non-interactive onboarding works verbatim", async () => {
  const result = await runShell(state, HF_SEED);
  assert.equal(result.code, 0, result.stderr);
  const config = await readConfig(state);
  assert.deepEqual(config.models.providers.huggingface, { baseUrl: "https://router.huggingface.co/v1", api: "openai-completions" });
  assert.equal(config.agents.defaults.model.primary, "huggingface/deepseek-ai/DeepSeek-R1");
  assert.equal((await readStore(state)).profiles["huggingface:default"].key, HF_KEY);
});

test("onboarding is idempotent and keeps unrelated config, fallbacks and the user's aliases", async () => {
  await writeConfig(state, {
    gateway: { port: 19000 },
    models: { providers: { chutes: { baseUrl: "http://127.0.0.1:9/v1", teeOnly: true } } },
    agents: {
      defaults: {
        model: { primary: "x/y", fallbacks: ["chutes/zai-org/GLM-4.7-Flash"] },
        models: { "chutes-fast": { alias: "chutes/zai-org/GLM-4.7-Flash" } },
      },
    },
  });
  assert.equal((await runShell(state, CHUTES_SEED)).code, 0);
  const first = await readFile(state.configPath, "utf8");
  assert.equal((await runShell(state, CHUTES_SEED)).code, 0);
  assert.equal(await readFile(state.configPath, "utf8"), first);
  const config = await readConfig(state);
  assert.equal(config.gateway.port, 19000);
  assert.deepEqual(config.models.providers.chutes, { baseUrl: "http://127.0.0.1:9/v1", teeOnly: true, api: "openai-completions" });
  assert.deepEqual(config.agents.defaults.model, { primary: "chutes/zai-org/GLM-4.7-TEE", fallbacks: ["chutes/zai-org/GLM-4.7-Flash"] });
  assert.deepEqual(config.agents.defaults.models["chutes-fast"], { alias: "chutes/zai-org/GLM-4.7-Flash" });
});

test("non-interactive without --accept-risk (or --mode local) is refused and writes nothing", async () => {
  const result = await runShell(
    state,
    `openclaw onboard --non-interactive --auth-choice chutes-api-key --chutes-api-key "$CHUTES_API_KEY"`,
  );
  assert.notEqual(result.code, 0);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /--accept-risk/);
  await assert.rejects(stat(state.stateDir));
});

test("non-interactive without a key is refused and writes nothing", async () => {
  const empty = await runShell(
    state,
    `CHUTES_API_KEY=""; openclaw onboard --non-interactive --accept-risk --auth-choice chutes-api-key --chutes-api-key "$CHUTES_API_KEY"`,
  );
  assert.notEqual(empty.code, 0);
  assert.match(empty.stderr, /--chutes-api-key is empty/);
  const missing = await runShell(
    state,
    `unset CHUTES_API_KEY; openclaw onboard --non-interactive --accept-risk --auth-choice chutes-api-key`,
  );
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /--chutes-api-key is required/);
  await assert.rejects(stat(state.stateDir));
});

let hf: FakeUpstream;
before(async () => {
  hf = await startFakeHuggingFace();
});
after(() => hf.close());

test("interactive onboarding: choose Hugging Face, paste the token masked, pick a :cheapest model from the live list", async () => {
  await writeConfig(state, { models: { providers: { huggingface: { baseUrl: hf.url } } } });
  const env = { ...state.env, HF_TOKEN: "" };
  const session = spawnCliInPty(["onboard"], env);
  const DOWN = "\x1b[B";
  await session.waitFor(/How do you want to connect/);
  session.write(DOWN);
  await new Promise((resolve) => setTimeout(resolve, 100));
  session.write("\r");
  await session.waitFor(/Continue\?/);
  session.write("\r");
  await session.waitFor(/Hugging Face token/);
  session.write(HF_KEY);
  await new Promise((resolve) => setTimeout(resolve, 100));
  session.write("\r");
  await session.waitFor(/Default model/);
  assert.match(session.output(), /DeepSeek V4 Pro|DeepSeek-V4-Pro/);
  session.write(DOWN);
  await new Promise((resolve) => setTimeout(resolve, 100));
  session.write("\r");
  assert.equal(await session.exit, 0, session.output());
  assert.ok(!session.output().includes(HF_KEY), "the token was echoed");
  const config = await readConfig(state);
  assert.equal(config.agents.defaults.model.primary, "huggingface/deepseek-ai/DeepSeek-R1:cheapest");
  assert.equal(config.models.providers.huggingface.baseUrl, hf.url);
  assert.equal((await readStore(state)).profiles["huggingface:default"].key, HF_KEY);
  assert.equal(hf.requests[0]?.headers.authorization, `Bearer ${HF_KEY}`);
});
