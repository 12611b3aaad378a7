import assert from "node:assert/strict";
import type OpenAI from "openai";
import type { APIError } from "openai";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes, startFakeUpstream } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { createLiveKey, refusal } from "./helpers/keys.js";
import { after, before, beforeEach, test } from "./helpers/test.js";

const QWEN = "chutes/Qwen/Qwen3-32B-TEE";
const GLM = "chutes/zai-org/GLM-5.1-TEE";
const EMBED = "chutes/Qwen/Qwen3-Embedding-8B";

let chutes: FakeUpstream;
let embed: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

const createKey = async (name: string, ...flags: string[]) => (await createLiveKey(state, gateway.url, name, ...flags)).secret;

const as = (secret: string) => gateway.client({ apiKey: secret });

const chatRequests = () => chutes.requests.filter((request) => request.path.endsWith("/chat/completions"));

before(async () => {
  chutes = await startFakeChutes();
  embed = await startFakeUpstream();
  state = await createTestState({ CHUTES_API_KEY: "cpk_keys_enforcement_0000000000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url, embeddingsBaseUrl: embed.url } } },
    agents: { defaults: { model: { primary: QWEN } }, list: [{ id: "main", default: true }, { id: "ops" }] },
  });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await embed.close();
  await state.cleanup();
});
beforeEach(() => {
  chutes.requests.length = 0;
  embed.requests.length = 0;
  embed.route("POST /embeddings", {
    body: {
      object: "list",
      data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2] }],
      model: "x",
      usage: { prompt_tokens: 8, total_tokens: 8 },
    },
  });
});

test("a key limited to one model gets 403 on another (chat, responses, embeddings) and sees only its model in /v1/models", async () => {
  const secret = await createKey("one-model", "--models", QWEN);
  const client = as(secret);
  for (const call of [
    () => client.chat.completions.create({ model: GLM, messages: [{ role: "user", content: "hi" }] }),
    () => client.chat.completions.create({ model: GLM, messages: [{ role: "user", content: "hi" }], stream: true }),
    () => client.responses.create({ model: GLM, input: "hi" }),
    () => client.embeddings.create({ model: EMBED, input: "hi" }),
  ]) {
    // One at a time: a refusal created before it is awaited would be an unhandled rejection.
    const error = await refusal(call());
    assert.equal(error.status, 403);
    assert.equal(error.code, "model_not_allowed");
  }
  assert.equal(chutes.requests.filter((r) => r.method === "POST").length + embed.requests.length, 0, "nothing reached the upstream");
  const answer = await client.chat.completions.create({ model: QWEN, messages: [{ role: "user", content: "hi" }] });
  assert.equal(answer.choices[0]?.message.content, "Hello from Chutes");

  const listed = (await client.models.list()).data.map((model) => model.id);
  assert.deepEqual(listed, [QWEN]);
  assert.ok((await gateway.client().models.list()).data.length > 1, "the operator sees every model");
  assert.equal((await refusal(client.models.retrieve(GLM))).status, 404);
  assert.equal((await client.models.retrieve(QWEN)).id, QWEN);
});

test("a key limited to one agent gets 403 agent_not_allowed on another", async () => {
  const client = as(await createKey("ops-only", "--agents", "ops"));
  const error = await refusal(client.chat.completions.create({ model: "openclaw:main", messages: [{ role: "user", content: "hi" }] }));
  assert.equal(error.status, 403);
  assert.equal(error.code, "agent_not_allowed");
  const ok = await client.chat.completions.create({ model: "openclaw:ops", messages: [{ role: "user", content: "hi" }] });
  assert.equal(ok.choices[0]?.message.content, "Hello from Chutes");
});

test("--rpm 5 lets exactly 5 of 8 concurrent requests through; the others get 429 with Retry-After and x-ratelimit-*", async () => {
  const client = as(await createKey("rpm5", "--rpm", "5"));
  const results = await Promise.allSettled(
    Array.from({ length: 8 }, () =>
      client.chat.completions.create({ model: QWEN, messages: [{ role: "user", content: "hi" }] }).withResponse(),
    ),
  );
  const passed = results.filter((result) => result.status === "fulfilled");
  const refused = results.flatMap((result) => (result.status === "rejected" ? [result.reason as APIError] : []));
  assert.equal(passed.length, 5);
  assert.equal(refused.length, 3);
  assert.equal(chatRequests().length, 5);
  for (const error of refused) {
    assert.equal(error.status, 429);
    assert.equal(error.code, "rate_limit_exceeded");
    assert.ok(Number(error.headers?.get("retry-after")) >= 1);
    assert.equal(error.headers?.get("x-ratelimit-limit-requests"), "5");
    assert.equal(error.headers?.get("x-ratelimit-remaining-requests"), "0");
    assert.match(error.headers?.get("x-ratelimit-reset-requests") ?? "", /^\d+(\.\d+)?m?s$/);
  }
  const remaining = passed.map((result) => Number(result.value.response.headers.get("x-ratelimit-remaining-requests"))).sort();
  assert.deepEqual(remaining, [0, 1, 2, 3, 4], "each success carries the key's headers");
});

test("RPM is enforced on streamed chat, responses (streamed or not) and embeddings", async () => {
  const cases: Array<[string, (client: OpenAI) => Promise<unknown>]> = [
    [
      "stream",
      async (c) => {
        for await (const _ of await c.chat.completions.create({ model: QWEN, messages: [{ role: "user", content: "hi" }], stream: true }));
      },
    ],
    ["responses", (c) => c.responses.create({ model: QWEN, input: "hi" })],
    [
      "responses-stream",
      async (c) => {
        for await (const _ of await c.responses.create({ model: QWEN, input: "hi", stream: true }));
      },
    ],
    ["embeddings", (c) => c.embeddings.create({ model: EMBED, input: "hi" })],
  ];
  for (const [name, call] of cases) {
    const client = as(await createKey(`rpm1-${name}`, "--rpm", "1"));
    await call(client);
    const before = chutes.requests.length + embed.requests.length;
    const error = await refusal(call(client));
    assert.equal(error.status, 429, name);
    assert.equal(error.headers?.get("x-ratelimit-limit-requests"), "1", name);
    assert.ok(Number(error.headers?.get("retry-after")) >= 1, name);
    assert.equal(chutes.requests.length + embed.requests.length, before, `${name}: the refused call reached no upstream`);
  }
});
