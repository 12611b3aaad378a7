import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { loadConfig } from "../src/config/load.js";
import { resolveStatePaths } from "../src/config/paths.js";
import { ConfigError } from "../src/shared/errors.js";
import { createTestState, isOneLineError, runCli, type TestState } from "./helpers/cli.js";
import { afterEach, beforeEach, test } from "./helpers/test.js";

let state: TestState;
beforeEach(async () => {
  state = await createTestState();
  await mkdir(state.stateDir, { recursive: true });
});
afterEach(() => state.cleanup());

const load = (env: NodeJS.ProcessEnv) => loadConfig({ env, paths: resolveStatePaths({ OPENCLAW_STATE_DIR: state.stateDir }) });
const writeConfig = (text: string) => writeFile(state.configPath, text);

test("a missing config file loads as an empty config", async () => {
  const { config, file } = await load({});
  assert.deepEqual(config, {});
  assert.equal(file.exists, false);
});

test("${VAR} references are substituted from the environment", async () => {
  await writeConfig(`{ models: { providers: { chutes: { baseUrl: "\${CHUTES_BASE}/v1", apiKey: "\${CHUTES_API_KEY}" } } } }`);
  const { config } = await load({ CHUTES_BASE: "http://127.0.0.1:9999", CHUTES_API_KEY: "cpk_from_env" });
  assert.equal(config.models?.providers?.chutes?.baseUrl, "http://127.0.0.1:9999/v1");
  assert.equal(config.models?.providers?.chutes?.apiKey, "cpk_from_env");
});

test("a reference to an unset variable is an error naming the key and the variable", async () => {
  await writeConfig(`{ models: { providers: { chutes: { apiKey: "\${CHUTES_API_KEY}" } } } }`);
  await assert.rejects(load({}), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /models\.providers\.chutes\.apiKey/);
    assert.match(error.message, /CHUTES_API_KEY is not set/);
    return true;
  });
});

test("$${VAR} escapes a literal reference", async () => {
  await writeConfig(`{ agents: { defaults: { systemPrompt: "cost is $\${PRICE}" } } }`);
  const { config } = await load({});
  assert.equal(config.agents?.defaults?.systemPrompt, "cost is ${PRICE}");
});

test("the env block fills variables that are not set, never overriding real ones", async () => {
  await writeConfig(`{
    env: { CHUTES_API_KEY: "cpk_from_block", vars: { HF_TOKEN: "hf_from_vars" }, REGION: "eu" },
    models: { providers: { chutes: { apiKey: "\${CHUTES_API_KEY}" }, huggingface: { apiKey: "\${HF_TOKEN}" } } },
  }`);
  const env: NodeJS.ProcessEnv = { REGION: "us" };
  const { config } = await load(env);
  assert.equal(config.models?.providers?.chutes?.apiKey, "cpk_from_block");
  assert.equal(config.models?.providers?.huggingface?.apiKey, "hf_from_vars");
  assert.equal(env.REGION, "us");
  assert.equal(env.CHUTES_API_KEY, "cpk_from_block");
});

test("<state>/.env is read without overriding the environment", async () => {
  await writeFile(path.join(state.stateDir, ".env"), "HF_TOKEN=hf_from_dotenv\nCHUTES_API_KEY=cpk_dotenv\n");
  await writeConfig(`{ models: { providers: { huggingface: { apiKey: "\${HF_TOKEN}" }, chutes: { apiKey: "\${CHUTES_API_KEY}" } } } }`);
  const { config } = await load({ CHUTES_API_KEY: "cpk_real_env" });
  assert.equal(config.models?.providers?.huggingface?.apiKey, "hf_from_dotenv");
  assert.equal(config.models?.providers?.chutes?.apiKey, "cpk_real_env");
});

test("unknown keys are an error naming the path", async () => {
  await writeConfig(`{ gateway: { http: { endpoints: { chatCompletion: { enabled: true } } } } }`);
  await assert.rejects(load({}), /gateway\.http\.endpoints: unknown key "chatCompletion"/);
});

test("every seed config snippet validates", async () => {
  // 000 (Chutes docs), 003 (Hugging Face docs), 004 (gateway docs), as printed there.
  const snippets = [
    `{ env: { CHUTES_API_KEY: "sk-..." }, agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-Flash" } } },
       models: { providers: { chutes: { baseUrl: "https://llm.chutes.ai/v1", api: "openai-completions", apiKey: "\${CHUTES_API_KEY}", teeOnly: false } } } }`,
    `{ agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" }, models: {
       "chutes/zai-org/GLM-4.7-TEE": { alias: "Chutes GLM 4.7" }, "chutes/deepseek-ai/DeepSeek-V3.2-TEE": { alias: "Chutes DeepSeek V3.2" } } } } }`,
    `{ agents: { defaults: { model: { primary: "huggingface/deepseek-ai/DeepSeek-V3.2", fallbacks: [
       "huggingface/meta-llama/Llama-3.3-70B-Instruct", "huggingface/openai/gpt-oss-120b" ] },
       models: { "huggingface/deepseek-ai/DeepSeek-V3.2": { alias: "DeepSeek V3.2" }, "huggingface/Qwen/Qwen3-8B:cheapest": { alias: "Qwen3 8B (cheapest)" } } } } }`,
    `{ gateway: { http: { endpoints: { chatCompletions: { enabled: true } } } } }`,
  ];
  for (const snippet of snippets) {
    await writeConfig(snippet);
    await load({});
  }
});

test("config validate reports a bad file in one line and exits non-zero", async () => {
  await writeConfig(`{ gateway: { port: "18789" } }`);
  const result = await runCli(state, ["config", "validate"]);
  assert.equal(result.code, 1);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /gateway\.port: expected number, received string/);
});

test("config validate accepts a good file", async () => {
  await writeConfig(`{ gateway: { port: 18789 } }`);
  const result = await runCli(state, ["config", "validate", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(JSON.parse(result.stdout), { ok: true, path: state.configPath, exists: true });
});

test("--verbose shows the cause of an error; without it there is no stack", async () => {
  await writeConfig(`{ gateway: `);
  const quiet = await runCli(state, ["config", "validate"]);
  assert.ok(isOneLineError(quiet.stderr), quiet.stderr);
  const verbose = await runCli(state, ["--verbose", "config", "validate"]);
  assert.match(verbose.stderr, /\n\s+at /);
});
