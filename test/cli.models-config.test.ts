import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createTestState, isOneLineError, readConfig, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

let chutes: FakeUpstream;
let state: TestState;
before(async () => {
  chutes = await startFakeChutes();
});
after(() => chutes.close());
beforeEach(async () => {
  chutes.requests.length = 0;
  state = await createTestState({ CHUTES_API_KEY: "cpk_FAKE-test-key-not-a-real-credential.0000.a1b2" });
  await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url } } } });
});
afterEach(() => state.cleanup());

const json = async (args: string[]) => {
  const result = await runCli(state, [...args, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout);
};

test("models set writes the default model, keeps an alias as typed, and says what it resolves to", async () => {
  const result = await runCli(state, ["models", "set", "chutes-fast"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Default model: chutes-fast → chutes\/zai-org\/GLM-4\.7-FP8/);
  assert.equal((await readConfig(state)).agents.defaults.model.primary, "chutes-fast");
  assert.deepEqual(await json(["models", "set", "chutes/Qwen/Qwen3-32B-TEE"]), {
    defaultModel: "chutes/Qwen/Qwen3-32B-TEE",
    resolved: "chutes/Qwen/Qwen3-32B-TEE",
  });
  const status = await json(["models", "status"]);
  assert.equal(status.resolvedDefault, "chutes/Qwen/Qwen3-32B-TEE");
});

test("models set upgrades a plain-string model setting and keeps the rest of the file", async () => {
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: "chutes/zai-org/GLM-4.7-TEE", systemPrompt: "be brief" } },
  });
  await json(["models", "fallbacks", "add", "chutes-pro"]);
  const config = await readConfig(state);
  assert.deepEqual(config.agents.defaults.model, { primary: "chutes/zai-org/GLM-4.7-TEE", fallbacks: ["chutes-pro"] });
  assert.equal(config.agents.defaults.systemPrompt, "be brief");
  assert.equal(config.models.providers.chutes.baseUrl, chutes.url);
});

test("models set refuses an unknown model in one line and writes nothing", async () => {
  const before = await readFile(state.configPath, "utf8");
  const result = await runCli(state, ["models", "set", "nowhere/model-x"]);
  assert.equal(result.code, 1);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /unknown model "nowhere\/model-x"/);
  assert.equal(await readFile(state.configPath, "utf8"), before);
});

test("aliases: add, list, redefine a built-in, remove it to get the built-in back", async () => {
  assert.deepEqual(await json(["models", "aliases", "add", "glm", "chutes/zai-org/GLM-4.7-TEE"]), {
    alias: "glm",
    ref: "chutes/zai-org/GLM-4.7-TEE",
  });
  // A second alias for the same model keeps the first.
  await json(["models", "aliases", "add", "g47", "chutes/zai-org/GLM-4.7-TEE"]);
  const listed = (await json(["models", "aliases", "list"])).aliases as Array<{ alias: string; ref: string; source: string }>;
  assert.deepEqual(
    listed.filter((entry) => entry.source === "config").map((entry) => `${entry.alias}=${entry.ref}`),
    ["glm=chutes/zai-org/GLM-4.7-TEE", "g47=chutes/zai-org/GLM-4.7-TEE"],
  );
  assert.ok(listed.some((entry) => entry.alias === "chutes-fast" && entry.source === "built-in"));

  const redefined = await runCli(state, ["models", "aliases", "add", "chutes-fast", "chutes/Qwen/Qwen3-32B-TEE"]);
  assert.equal(redefined.code, 0, redefined.stderr);
  assert.match(redefined.stdout, /Alias chutes-fast → chutes\/Qwen\/Qwen3-32B-TEE \(was chutes\/zai-org\/GLM-4\.7-FP8\)/);
  const chat = await runCli(state, ["chat", "-m", "chutes-fast", "hi"]);
  assert.equal(chat.code, 0, chat.stderr);
  assert.equal((chutes.requests.at(-1)?.body as { model: string }).model, "Qwen/Qwen3-32B-TEE");

  const removed = await runCli(state, ["models", "aliases", "remove", "chutes-fast"]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /built-in chutes-fast → chutes\/zai-org\/GLM-4\.7-FP8 applies again/);
  const again = await runCli(state, ["models", "aliases", "remove", "chutes-fast"]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /built-in alias: it cannot be removed/);
  assert.ok(isOneLineError(again.stderr), again.stderr);

  await json(["models", "aliases", "remove", "glm"]);
  const models = (await readConfig(state)).agents.defaults.models;
  assert.deepEqual(models, { g47: { alias: "chutes/zai-org/GLM-4.7-TEE" } });
});

test("aliases add refuses a name with a slash, a target that is not a ref, and writes nothing", async () => {
  const before = await readFile(state.configPath, "utf8");
  const slash = await runCli(state, ["models", "aliases", "add", "a/b", "chutes/zai-org/GLM-4.7-TEE"]);
  assert.equal(slash.code, 1);
  assert.match(slash.stderr, /not a valid name/);
  const chained = await runCli(state, ["models", "aliases", "add", "quick", "chutes-fast"]);
  assert.equal(chained.code, 1);
  assert.match(chained.stderr, /not a provider\/model ref/);
  assert.equal(await readFile(state.configPath, "utf8"), before);
});

test("fallbacks: add in order, no duplicates, remove, clear; list in text and JSON", async () => {
  await json(["models", "fallbacks", "add", "chutes/zai-org/GLM-4.7-TEE"]);
  await json(["models", "fallbacks", "add", "chutes-pro"]);
  const duplicate = await json(["models", "fallbacks", "add", "chutes-pro"]);
  assert.equal(duplicate.added, false);
  const text = await runCli(state, ["models", "fallbacks", "list"]);
  assert.equal(text.stdout, "1. chutes/zai-org/GLM-4.7-TEE\n2. chutes-pro\n");
  assert.deepEqual((await json(["models", "fallbacks", "remove", "chutes/zai-org/GLM-4.7-TEE"])).fallbacks, ["chutes-pro"]);
  const missing = await runCli(state, ["models", "fallbacks", "remove", "chutes/zai-org/GLM-4.7-TEE"]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /is not a fallback/);
  assert.deepEqual(await json(["models", "fallbacks", "clear"]), { fallbacks: [] });
  assert.equal((await runCli(state, ["models", "fallbacks", "list"])).stdout, "No fallbacks.\n");
  assert.deepEqual((await json(["models", "status"])).fallbacks, []);
});

test("fallbacks added with the command are tried when the primary fails", async () => {
  await json(["models", "set", "chutes/Qwen/Qwen3-32B-TEE"]);
  await json(["models", "fallbacks", "add", "chutes/zai-org/GLM-4.7-TEE"]);
  const original = chutes.routes.get("POST /chat/completions");
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { model: string };
    if (body.model === "Qwen/Qwen3-32B-TEE") return { status: 503, body: { detail: "busy" } };
    return (original as NonNullable<typeof original>)(request);
  });
  try {
    const chat = await runCli(state, ["chat", "hi"]);
    assert.equal(chat.code, 0, chat.stderr);
    assert.match(chat.stdout, /Hello from Chutes/);
    assert.deepEqual(
      chutes.requests
        .filter((request) => request.path === "/v1/chat/completions")
        .map((request) => (request.body as { model: string }).model),
      ["Qwen/Qwen3-32B-TEE", "zai-org/GLM-4.7-TEE"],
    );
  } finally {
    if (original) chutes.routes.set("POST /chat/completions", original);
  }
});
