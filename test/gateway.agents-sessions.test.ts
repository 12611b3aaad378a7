import assert from "node:assert/strict";
import OpenAI from "openai";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes, startFakeHuggingFace } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { ledgerRow } from "./helpers/ledger.js";
import { after, before, beforeEach, test } from "./helpers/test.js";
import { eventually, waitUntil } from "./helpers/wait.js";

let chutes: FakeUpstream;
let hf: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
let client: OpenAI;

before(async () => {
  chutes = await startFakeChutes();
  hf = await startFakeHuggingFace();
  state = await createTestState({ CHUTES_API_KEY: "cpk_agents_test_key_00000000", HF_TOKEN: "hf_agents_test_token_000000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url }, huggingface: { baseUrl: hf.url } } },
    agents: {
      defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE", fallbacks: ["huggingface/deepseek-ai/DeepSeek-R1"] } },
      list: [
        { id: "main" },
        {
          id: "beta",
          model: { primary: "chutes/zai-org/GLM-5.1-TEE", fallbacks: ["chutes/Qwen/Qwen3-32B-TEE"] },
          systemPrompt: "You are Beta. Answer in one line.",
          allowedModels: ["chutes/zai-org/GLM-5.1-TEE", "chutes-pro"],
        },
      ],
    },
  });
  gateway = await startGateway(state);
  client = gateway.client();
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await hf.close();
  await state.cleanup();
});
beforeEach(() => {
  chutes.requests.length = 0;
  hf.requests.length = 0;
  chutes.route("POST /chat/completions", (request) => ({ body: completion("from chutes", (request.body as { model: string }).model) }));
});

const chat = (model: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  client.chat.completions.create(
    { model, messages: [{ role: "user", content: "hello" }], ...extra } as OpenAI.ChatCompletionCreateParamsNonStreaming,
    { headers },
  );
const lastChutes = () =>
  chutes.requests.filter((request) => request.path === "/v1/chat/completions").at(-1)?.body as { model: string; messages: unknown[] };

test("model 'openclaw' is the default agent's primary model", async () => {
  const result = await chat("openclaw");
  assert.equal(result.model, "chutes/Qwen/Qwen3-32B-TEE");
});

test("an agent named in the model field gets its model and its system prompt first", async () => {
  for (const name of ["openclaw:beta", "openclaw/beta", "agent:beta"]) {
    const result = await chat(name);
    assert.equal(result.model, "chutes/zai-org/GLM-5.1-TEE", name);
    assert.deepEqual(lastChutes().messages, [
      { role: "system", content: "You are Beta. Answer in one line." },
      { role: "user", content: "hello" },
    ]);
  }
});

test("the x-openclaw-agent-id header picks the agent", async () => {
  const result = await chat("openclaw", {}, { "x-openclaw-agent-id": "beta" });
  assert.equal(result.model, "chutes/zai-org/GLM-5.1-TEE");
  // An allowed explicit model keeps the agent's system prompt.
  const pro = await chat("chutes-pro", {}, { "x-openclaw-agent-id": "beta" });
  assert.equal(pro.model, "chutes/deepseek-ai/DeepSeek-V3.2-TEE");
  assert.equal((lastChutes().messages[0] as { role: string }).role, "system");
});

test("a model outside the agent's allowed set is refused with 403", async () => {
  await assert.rejects(chat("chutes/unsloth/gemma-3-12b-it", {}, { "x-openclaw-agent-id": "beta" }), (error) => {
    assert.ok(error instanceof OpenAI.PermissionDeniedError);
    assert.match((error as Error).message, /not allowed for agent beta/);
    return true;
  });
  assert.equal(chutes.requests.length, 0);
});

test("an unknown agent is a 404", async () => {
  await assert.rejects(
    chat("openclaw:ghost"),
    (error) => error instanceof OpenAI.NotFoundError && /unknown agent "ghost"/.test((error as Error).message),
  );
});

test("an unknown model is a 404 model_not_found", async () => {
  await assert.rejects(
    chat("nowhere/model"),
    (error) => error instanceof OpenAI.NotFoundError && (error as InstanceType<typeof OpenAI.NotFoundError>).code === "model_not_found",
  );
});

test("on an upstream 503 the agent's fallbacks are tried in order", async () => {
  chutes.route("POST /chat/completions", { status: 503, body: { detail: "No instances available" } });
  const result = await chat("openclaw");
  assert.equal(result.model, "huggingface/deepseek-ai/DeepSeek-R1");
  assert.equal(result.choices[0]?.message.content, "Hi from HF");
  const stream = await client.chat.completions.create({ model: "openclaw", stream: true, messages: [{ role: "user", content: "hi" }] });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
  assert.equal(text, "Hi from HF");
});

test("/v1/models with x-openclaw-agent-id lists exactly the agent's allowed models and fallbacks, discovered or not", async () => {
  const listed = await client.models.list({ headers: { "x-openclaw-agent-id": "beta" } });
  const ids = listed.data.map((model) => model.id);
  // chutes-pro (DeepSeek-V3.2-TEE) is not in the discovered catalog, yet the agent may use it.
  assert.deepEqual(ids, ["chutes/zai-org/GLM-5.1-TEE", "chutes/deepseek-ai/DeepSeek-V3.2-TEE", "chutes/Qwen/Qwen3-32B-TEE"]);
  const discovered = listed.data.find((model) => model.id === "chutes/zai-org/GLM-5.1-TEE") as unknown as Record<string, unknown>;
  assert.equal(discovered.tee, true);
  const result = await chat("chutes/deepseek-ai/DeepSeek-V3.2-TEE", {}, { "x-openclaw-agent-id": "beta" });
  assert.equal(result.model, "chutes/deepseek-ai/DeepSeek-V3.2-TEE");
  // retrieve() resolves aliases, within the agent's scope too.
  const byAlias = await client.models.retrieve("chutes-pro", { headers: { "x-openclaw-agent-id": "beta" } });
  assert.equal(byAlias.id, "chutes/deepseek-ai/DeepSeek-V3.2-TEE");
  await assert.rejects(
    client.models.retrieve("chutes/unsloth/gemma-3-12b-it", { headers: { "x-openclaw-agent-id": "beta" } }),
    OpenAI.NotFoundError,
  );
});

test("/v1/models does not list agents as pseudo-models", async () => {
  const ids = (await client.models.list()).data.map((model) => model.id);
  assert.ok(ids.includes("chutes/Qwen/Qwen3-32B-TEE"));
  assert.ok(!ids.some((id) => id.startsWith("openclaw") || id.startsWith("agent:")), ids.join(", "));
});

test("the OpenAI user field makes a stable session; its transcript, usage and cost are persisted", async () => {
  await chat("openclaw", { user: "alice" }, { "x-openclaw-message-channel": "webchat" });
  await chat("openclaw", {
    user: "alice",
    messages: [
      { role: "user", content: "hello" },
      { role: "assistant", content: "from chutes" },
      { role: "user", content: "again" },
    ],
  });
  const shown = await eventually(
    () => runCli(state, ["sessions", "show", "agent:main:openai-user:alice", "--json"]),
    (result) => result.code === 0 && JSON.parse(result.stdout).session.turns === 2,
  );
  assert.equal(shown.code, 0, shown.stderr);
  const { session, turns } = JSON.parse(shown.stdout);
  assert.equal(session.turns, 2);
  assert.equal(session.channel, "webchat");
  assert.equal(session.promptTokens, 10);
  assert.equal(session.completionTokens, 6);
  // Qwen3-32B-TEE costs $0.104 / $0.416 per 1M tokens in the fake catalog.
  assert.ok(Math.abs(session.cost - (10 * 0.104 + 6 * 0.416) / 1e6) < 1e-12);
  assert.deepEqual(turns[1].input, [{ role: "user", content: "again" }]);
  assert.deepEqual(turns[1].output, { role: "assistant", content: "from chutes" });
  assert.equal(turns[0].model, "chutes/Qwen/Qwen3-32B-TEE");
  const listed = await runCli(state, ["sessions", "list"]);
  assert.match(listed.stdout, /agent:main:openai-user:alice/);
});

test("x-openclaw-session-key picks the session verbatim; requests without one keep no session", async () => {
  await chat("openclaw", {}, { "x-openclaw-session-key": "my-own-session" });
  await chat("openclaw", {}, { "x-openclaw-session-key": "my-own-session" });
  const shown = await eventually(
    async () => JSON.parse((await runCli(state, ["sessions", "show", "my-own-session", "--json"])).stdout || "{}"),
    (found) => found.session?.turns === 2,
  );
  assert.equal(shown.session.turns, 2);
  const count = async () => JSON.parse((await runCli(state, ["sessions", "list", "--json", "--limit", "500"])).stdout).sessions.length;
  const before = await count();
  await chat("openclaw", {}, { "x-request-id": "unkeyed-1" });
  await chat("openclaw", {}, { "x-request-id": "unkeyed-2" });
  // Both are in the ledger (written in the same batches as turns would be), and no session appeared.
  await waitUntil(() => ledgerRow(state.stateDir, "unkeyed-1") && ledgerRow(state.stateDir, "unkeyed-2"), { what: "ledger rows" });
  assert.equal(await count(), before);
});
