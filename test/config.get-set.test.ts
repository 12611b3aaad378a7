import assert from "node:assert/strict";
import { readFile, stat, writeFile } from "node:fs/promises";
import { createTestState, isOneLineError, runCli, type TestState } from "./helpers/cli.js";
import { afterEach, beforeEach, test } from "./helpers/test.js";

let state: TestState;
beforeEach(async () => {
  state = await createTestState();
});
afterEach(() => state.cleanup());

const get = async (path: string) => {
  const result = await runCli(state, ["config", "get", path, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
};
const set = (...args: string[]) => runCli(state, ["config", "set", ...args]);

test("config get --json returns exactly what config set --json stored", async () => {
  const value = { primary: "huggingface/deepseek-ai/DeepSeek-R1", fallbacks: ["huggingface/Qwen/Qwen3-8B", "chutes/zai-org/GLM-4.7-TEE"] };
  assert.equal((await set("agents.defaults.model", "--json", JSON.stringify(value))).code, 0);
  assert.deepEqual(await get("agents.defaults.model"), value);
});

test("plain values are typed by the schema: numbers, booleans, strings", async () => {
  assert.equal((await set("gateway.port", "18790")).code, 0);
  assert.equal((await set("gateway.http.endpoints.chatCompletions.enabled", "true")).code, 0);
  assert.equal((await set("gateway.bind", "127.0.0.1")).code, 0);
  assert.equal((await set("gateway.auth.mode", "token")).code, 0);
  assert.deepEqual(await get("gateway"), {
    port: 18790,
    http: { endpoints: { chatCompletions: { enabled: true } } },
    bind: "127.0.0.1",
    auth: { mode: "token" },
  });
});

test("config get prints plain strings without quotes, and --json with them", async () => {
  await set("agents.defaults.model.primary", "chutes/zai-org/GLM-4.7-TEE");
  const plain = await runCli(state, ["config", "get", "agents.defaults.model.primary"]);
  assert.equal(plain.stdout, "chutes/zai-org/GLM-4.7-TEE\n");
  const json = await runCli(state, ["config", "get", "agents.defaults.model.primary", "--json"]);
  assert.equal(json.stdout.trim(), '"chutes/zai-org/GLM-4.7-TEE"');
});

test("an invalid value is refused with the path named and the file left byte for byte", async () => {
  await set("gateway.port", "18790");
  const before = await readFile(state.configPath, "utf8");
  const result = await set("gateway.port", "not-a-port");
  assert.notEqual(result.code, 0);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /gateway\.port/);
  assert.match(result.stderr, /expected number/);
  assert.equal(await readFile(state.configPath, "utf8"), before);
});

test("an out-of-range number is refused", async () => {
  const result = await set("gateway.port", "70000");
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /gateway\.port/);
});

test("an unknown key is refused, naming the key and the known ones", async () => {
  const result = await set("gateway.prot", "1");
  assert.notEqual(result.code, 0);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /unknown config key "prot" under gateway/);
  assert.match(result.stderr, /port/);
});

test("an unknown key inside a --json object is refused", async () => {
  const result = await set("models.providers.chutes", "--json", '{"baseUrl":"https://llm.chutes.ai/v1","teeonly":true}');
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /models\.providers\.chutes: unknown key "teeonly"/);
});

test("a bad enum value names the allowed ones", async () => {
  const result = await set("auth.profiles.chutes:manual", "--json", '{"provider":"chutes","mode":"password"}');
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /auth\.profiles\."chutes:manual"\.mode/);
  assert.match(result.stderr, /api_key/);
});

test("invalid --json is a clear error and writes nothing", async () => {
  const result = await set("gateway", "--json", "{port: ");
  assert.notEqual(result.code, 0);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /--json value is not valid JSON/);
  await assert.rejects(stat(state.configPath));
});

test("model-ref keys with dots work unquoted, quoted and bracketed", async () => {
  assert.equal((await set("agents.defaults.models.huggingface/Qwen/Qwen2.5-7B-Instruct.alias", "Qwen2.5 7B")).code, 0);
  assert.equal(
    (await set('agents.defaults.models."huggingface/Qwen/Qwen2.5-7B-Instruct:cheapest"', "--json", '{"alias":"cheap"}')).code,
    0,
  );
  assert.equal((await set('agents.defaults.models["huggingface/deepseek-ai/DeepSeek-R1:fastest"].alias', "fast")).code, 0);
  assert.deepEqual(await get("agents.defaults.models"), {
    "huggingface/Qwen/Qwen2.5-7B-Instruct": { alias: "Qwen2.5 7B" },
    "huggingface/Qwen/Qwen2.5-7B-Instruct:cheapest": { alias: "cheap" },
    "huggingface/deepseek-ai/DeepSeek-R1:fastest": { alias: "fast" },
  });
});

test("list items are addressed by index and appended at the end", async () => {
  assert.equal((await set("agents.list[0]", "--json", '{"id":"main"}')).code, 0);
  assert.equal((await set("agents.list.1", "--json", '{"id":"beta","systemPrompt":"Be brief."}')).code, 0);
  assert.equal((await set("agents.list[1].model.primary", "chutes/zai-org/GLM-4.7-Flash")).code, 0);
  assert.deepEqual(await get("agents.list"), [
    { id: "main" },
    { id: "beta", systemPrompt: "Be brief.", model: { primary: "chutes/zai-org/GLM-4.7-Flash" } },
  ]);
  const gap = await set("agents.list[5]", "--json", '{"id":"x"}');
  assert.notEqual(gap.code, 0);
  assert.match(gap.stderr, /past the end of the list/);
});

test("a string model shorthand is promoted when a field below it is set", async () => {
  await set("agents.defaults.model", "chutes/zai-org/GLM-4.7-TEE");
  assert.equal(await get("agents.defaults.model"), "chutes/zai-org/GLM-4.7-TEE");
  assert.equal((await set("agents.defaults.model.fallbacks", "--json", '["chutes/zai-org/GLM-4.7-Flash"]')).code, 0);
  assert.deepEqual(await get("agents.defaults.model"), {
    primary: "chutes/zai-org/GLM-4.7-TEE",
    fallbacks: ["chutes/zai-org/GLM-4.7-Flash"],
  });
});

test("config unset removes a value and prunes emptied parents", async () => {
  await set("gateway.port", "18790");
  await set("gateway.bind", "loopback");
  assert.equal((await runCli(state, ["config", "unset", "gateway.port"])).code, 0);
  assert.deepEqual(await get("gateway"), { bind: "loopback" });
  assert.equal((await runCli(state, ["config", "unset", "gateway.bind"])).code, 0);
  const missing = await runCli(state, ["config", "get", "gateway"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /gateway is not set/);
});

test("comments and formatting of a hand-edited JSON5 file survive config set", async () => {
  const { mkdir } = await import("node:fs/promises");
  await mkdir(state.stateDir, { recursive: true });
  await writeFile(
    state.configPath,
    `// my OpenClaw setup
{
  // keep the gateway local
  gateway: { port: 18789, bind: 'loopback' },
  models: {
    providers: {
      chutes: {
        baseUrl: "https://llm.chutes.ai/v1",
        teeOnly: false, // Set to true to filter models by TEE
      },
    },
  },
}
`,
  );
  assert.equal((await set("models.providers.chutes.teeOnly", "true")).code, 0);
  const text = await readFile(state.configPath, "utf8");
  assert.match(text, /\/\/ my OpenClaw setup/);
  assert.match(text, /\/\/ keep the gateway local/);
  assert.match(text, /teeOnly: true, \/\/ Set to true to filter models by TEE/);
  assert.equal(await get("models.providers.chutes.teeOnly"), true);
  assert.equal(await get("gateway.bind"), "loopback");
});

test("each write keeps the previous file as openclaw.json.bak", async () => {
  await set("gateway.port", "1111");
  await set("gateway.port", "2222");
  const backup = await readFile(`${state.configPath}.bak`, "utf8");
  assert.match(backup, /1111/);
  assert.equal(await get("gateway.port"), 2222);
});

test("a broken config file is reported with its location and never overwritten", async () => {
  const { mkdir } = await import("node:fs/promises");
  await mkdir(state.stateDir, { recursive: true });
  await writeFile(state.configPath, "{ gateway: { port: 1 ");
  const result = await set("gateway.port", "2");
  assert.notEqual(result.code, 0);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /not valid JSON5/);
  assert.equal(await readFile(state.configPath, "utf8"), "{ gateway: { port: 1 ");
});

test("a literal secret is refused in openclaw.json; a ${VAR} reference is accepted", async () => {
  const secret = "cpk_FAKE-test-key-not-a-real-credential.0000.z9y8";
  const refused = await set("models.providers.chutes.apiKey", secret);
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /paste-token --provider chutes/);
  assert.ok(!refused.stderr.includes(secret));
  const nested = await set("models.providers.chutes", "--json", JSON.stringify({ apiKey: secret }));
  assert.notEqual(nested.code, 0);
  const envBlock = await set("env.CHUTES_API_KEY", secret);
  assert.notEqual(envBlock.code, 0);
  assert.equal((await set("models.providers.chutes.apiKey", "${CHUTES_API_KEY}")).code, 0);
  assert.equal(await get("models.providers.chutes.apiKey"), "${CHUTES_API_KEY}");
});

test("credential headers are secrets too; a ${VAR} template is fine", async () => {
  const refused = await set("models.providers.openrouter.headers.Authorization", "Bearer sk-or-v1-0123456789abcdef0123456789abcdef");
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /refusing to write a secret into openclaw.json at models\.providers\.openrouter\.headers\.Authorization/);
  assert.equal((await set("models.providers.openrouter.headers.Authorization", "Bearer ${OPENROUTER_API_KEY}")).code, 0);
  assert.equal((await set("models.providers.openrouter.headers.HTTP-Referer", "https://example.com")).code, 0);
});

test("literal secrets in a hand-edited file are redacted by config get", async () => {
  const { mkdir } = await import("node:fs/promises");
  await mkdir(state.stateDir, { recursive: true });
  await writeFile(
    state.configPath,
    JSON.stringify({ env: { HF_TOKEN: "hf_FAKE_test_token_3456" }, gateway: { auth: { token: "supersecretgatewaytoken" } } }),
  );
  const result = await runCli(state, ["config", "get", "--json"]);
  assert.equal(result.code, 0);
  assert.ok(!result.stdout.includes("hf_FAKE_test_token_3456"));
  assert.ok(!result.stdout.includes("supersecretgatewaytoken"));
  assert.deepEqual(JSON.parse(result.stdout), { env: { HF_TOKEN: "hf_…3456" }, gateway: { auth: { token: "…oken" } } });
});

test("OPENCLAW_CONFIG_PATH moves the config file; directories are 0700 and the file 0600", async () => {
  const custom = `${state.root}/elsewhere/custom.json5`;
  const result = await runCli(state, ["config", "set", "gateway.port", "4242"], { env: { OPENCLAW_CONFIG_PATH: custom } });
  assert.equal(result.code, 0, result.stderr);
  assert.equal((await stat(custom)).mode & 0o777, 0o600);
  assert.equal((await stat(`${state.root}/elsewhere`)).mode & 0o777, 0o700);
  const file = await runCli(state, ["config", "file"], { env: { OPENCLAW_CONFIG_PATH: custom } });
  assert.equal(file.stdout.trim(), custom);
  await assert.rejects(stat(state.configPath));
});
