import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createTestState, runCli, runShell, type TestState } from "./helpers/cli.js";
import { after, before, test } from "./helpers/test.js";

// Verbatim from the OpenClaw Chutes guide (seed 001, sections 2 and 3), run through a real shell.
const SEED_COMMANDS = `
openclaw config set models.providers.chutes.baseUrl "https://llm.chutes.ai/v1"
openclaw config set models.providers.chutes.api "openai-completions"
openclaw config set auth.profiles."chutes:manual" --json '{"provider":"chutes","mode":"api_key"}'
openclaw config set agents.defaults.model.primary "chutes/zai-org/GLM-4.7-TEE"
openclaw config set agents.defaults.models.chutes-fast --json '{"alias": "chutes/zai-org/GLM-4.7-Flash"}'
openclaw config set agents.defaults.models.chutes-pro --json '{"alias": "chutes/deepseek-ai/DeepSeek-V3.2-TEE"}'
openclaw config set agents.defaults.models.chutes-vision --json '{"alias": "chutes/chutesai/Mistral-Small-3.2-24B-Instruct-2506"}'
`;

const EXPECTED = {
  models: { providers: { chutes: { baseUrl: "https://llm.chutes.ai/v1", api: "openai-completions" } } },
  auth: { profiles: { "chutes:manual": { provider: "chutes", mode: "api_key" } } },
  agents: {
    defaults: {
      model: { primary: "chutes/zai-org/GLM-4.7-TEE" },
      models: {
        "chutes-fast": { alias: "chutes/zai-org/GLM-4.7-Flash" },
        "chutes-pro": { alias: "chutes/deepseek-ai/DeepSeek-V3.2-TEE" },
        "chutes-vision": { alias: "chutes/chutesai/Mistral-Small-3.2-24B-Instruct-2506" },
      },
    },
  },
};

let state: TestState;
before(async () => {
  state = await createTestState();
});
after(() => state.cleanup());

test("the seed's config set commands work verbatim and build the documented config", async () => {
  const result = await runShell(state, SEED_COMMANDS);
  assert.equal(result.code, 0, result.stderr);
  const whole = await runCli(state, ["config", "get", "--json"]);
  assert.equal(whole.code, 0, whole.stderr);
  assert.deepEqual(JSON.parse(whole.stdout), EXPECTED);
});

test("running the seed's commands again is idempotent", async () => {
  const before = await readFile(state.configPath, "utf8");
  const result = await runShell(state, SEED_COMMANDS);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(await readFile(state.configPath, "utf8"), before);
});

test("the seed's refresh script round-trips a provider through config get/set --json", async () => {
  // The shape 001's update_chutes_models.sh writes back with `config set ... --json`.
  const script = `
CURRENT_CONFIG=$(openclaw config get models.providers.chutes --json)
NEW_CONFIG=$(node -e '
  const current = JSON.parse(process.argv[1] || "{}");
  current.models = [{ id: "zai-org/GLM-4.7-TEE", name: "zai-org/GLM-4.7-TEE", reasoning: true, input: ["text"],
    cost: { input: 0.4, output: 1.5, cacheRead: 0, cacheWrite: 0 }, contextWindow: 202752, maxTokens: 65535 }];
  console.log(JSON.stringify(current));
' "$CURRENT_CONFIG")
openclaw config set models.providers.chutes --json "$NEW_CONFIG"
`;
  const result = await runShell(state, script);
  assert.equal(result.code, 0, result.stderr);
  const provider = JSON.parse((await runCli(state, ["config", "get", "models.providers.chutes", "--json"])).stdout);
  assert.equal(provider.baseUrl, "https://llm.chutes.ai/v1");
  assert.equal(provider.models[0].contextWindow, 202752);
});

test("the seed's weekly primary-model update replaces only the primary", async () => {
  const result = await runShell(state, `openclaw config set agents.defaults.model.primary "chutes/zai-org/GLM-4.8-TEE"`);
  assert.equal(result.code, 0, result.stderr);
  const model = JSON.parse((await runCli(state, ["config", "get", "agents.defaults.model", "--json"])).stdout);
  assert.deepEqual(model, { primary: "chutes/zai-org/GLM-4.8-TEE" });
});
