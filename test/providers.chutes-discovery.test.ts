import assert from "node:assert/strict";
import { CHUTES_BUILTIN_MODELS } from "../src/providers/chutes/chutes-catalog.js";
import { createProvider } from "../src/providers/registry.js";
import { type FakeUpstream, fixtureJson, startFakeChutes, startFakeUpstream } from "./helpers/fake-upstream.js";
import { after, before, beforeEach, test } from "./helpers/test.js";

let chutes: FakeUpstream;
before(async () => {
  chutes = await startFakeChutes();
});
after(() => chutes.close());
beforeEach(() => {
  chutes.requests.length = 0;
  chutes.route("GET /models", { body: fixtureJson("chutes-models.json") });
});

const provider = (extra: Record<string, unknown> = {}) => createProvider("chutes", { baseUrl: chutes.url, ...extra });

test("chutes discovery maps every field; TEE comes from confidential_compute", async () => {
  const result = await provider().discoverModels({ apiKey: "cpk_test" });
  assert.equal(result.source, "live");
  assert.deepEqual(
    result.models.map((model) => [model.id, model.confidentialCompute]),
    [
      ["Qwen/Qwen3-32B-TEE", true],
      ["Qwen/Qwen3.5-397B-A17B-TEE", true],
      ["zai-org/GLM-5.1-TEE", true],
      ["unsloth/gemma-3-12b-it", false],
    ],
  );
  const qwen = result.models[0];
  assert.deepEqual(qwen, {
    provider: "chutes",
    id: "Qwen/Qwen3-32B-TEE",
    name: "Qwen3 32B TEE",
    contextWindow: 40960,
    maxTokens: 40960,
    cost: { input: 0.104, output: 0.416, cacheRead: 0.052 },
    input: ["text"],
    reasoning: true,
    tools: true,
    structuredOutput: true,
    confidentialCompute: true,
    upstreamId: "ac059e33-eb27-541c-b9a9-24b214036475",
  });
  assert.equal(result.models[1]?.upstreamId, undefined, "no chute_id served, none invented");
  assert.deepEqual(result.models[3]?.input, ["text", "image"]);
  assert.equal(result.models[3]?.reasoning, false);
  assert.equal(chutes.requests[0]?.headers.authorization, "Bearer cpk_test");
});

test("chutes discovery never infers TEE from the name", async () => {
  chutes.route("GET /models", { body: { data: [{ id: "fake/Looks-Like-TEE", confidential_compute: "true" }, { id: "fake/plain" }] } });
  const result = await provider().discoverModels({});
  assert.deepEqual(
    result.models.map((model) => model.confidentialCompute),
    [false, false],
  );
});

test("a chute_id that is not an id (a path, a URL) is not kept", async () => {
  chutes.route("GET /models", {
    body: {
      data: [
        { id: "a/b", chute_id: "../../admin" },
        { id: "c/d", chute_id: "x/y" },
      ],
    },
  });
  const result = await provider().discoverModels({});
  assert.deepEqual(
    result.models.map((model) => model.upstreamId),
    [undefined, undefined],
  );
});

test("invalid numbers fall back to sane defaults", async () => {
  chutes.route("GET /models", {
    body: {
      data: [
        { id: "a/negative", context_length: -5, max_output_length: 0, pricing: { prompt: -1, completion: "NaN" } },
        { id: "a/fractional", context_length: 1000.5, max_output_length: Number.NaN },
        { id: "zai-org/GLM-4.7-TEE", context_length: "big" },
      ],
    },
  });
  const [negative, fractional, known] = (await provider().discoverModels({})).models;
  assert.equal(negative?.contextWindow, 128000);
  assert.equal(negative?.maxTokens, 4096);
  assert.equal(negative?.cost, undefined);
  assert.equal(fractional?.contextWindow, 128000);
  // A model the built-in catalog knows keeps its known context window.
  assert.equal(known?.contextWindow, CHUTES_BUILTIN_MODELS.find((m) => m.id === "zai-org/GLM-4.7-TEE")?.contextWindow);
});

for (const [name, reply] of [
  ["a 503", { status: 503, body: { detail: "No instances available" } }],
  ["a non-JSON body", { status: 200, body: "<html>oops</html>" }],
  ["an empty list", { body: { object: "list", data: [] } }],
  ["a body without data", { body: { object: "list" } }],
  ["a dropped connection", { destroy: true }],
] as const) {
  test(`chutes discovery falls back to the built-in catalog on ${name}`, async () => {
    chutes.route("GET /models", reply);
    const result = await provider().discoverModels({ apiKey: "cpk_test" });
    assert.equal(result.source, "builtin");
    assert.ok(result.error);
    assert.ok(result.models.length >= 8);
    assert.ok(result.models.some((model) => model.id === "zai-org/GLM-4.7-TEE"));
  });
}

test("chutes discovery falls back on a timeout", async () => {
  chutes.route("GET /models", { hang: true });
  const result = await provider({ timeoutMs: 200 }).discoverModels({});
  assert.equal(result.source, "builtin");
  assert.match(result.error ?? "", /did not answer in time|cancelled/);
});

test("chutes discovery falls back when the server is not there", async () => {
  const gone = await startFakeUpstream();
  const url = gone.url;
  await gone.close();
  const result = await createProvider("chutes", { baseUrl: url }).discoverModels({});
  assert.equal(result.source, "builtin");
  assert.match(result.error ?? "", /cannot reach chutes/);
});

test("a 401 with a credential is retried once without it", async () => {
  chutes.route("GET /models", (request) =>
    request.headers.authorization ? { status: 401, body: { detail: "Invalid token" } } : { body: fixtureJson("chutes-models.json") },
  );
  const result = await provider().discoverModels({ apiKey: "cpk_revoked" });
  assert.equal(result.source, "live");
  assert.equal(chutes.requests.length, 2);
  assert.equal(chutes.requests[1]?.headers.authorization, undefined);
});

test("the built-in catalog has the eight documented models and the aliases' targets", () => {
  const ids = new Set(CHUTES_BUILTIN_MODELS.map((model) => model.id));
  for (const id of [
    "zai-org/GLM-4.7-TEE",
    "zai-org/GLM-5-TEE",
    "deepseek-ai/DeepSeek-V3.2-TEE",
    "deepseek-ai/DeepSeek-R1-0528-TEE",
    "moonshotai/Kimi-K2.5-TEE",
    "chutesai/Mistral-Small-3.2-24B-Instruct-2506",
    "Qwen/Qwen3-Coder-Next-TEE",
    "openai/gpt-oss-120b-TEE",
    "zai-org/GLM-4.7-Flash",
    "zai-org/GLM-4.7-FP8",
  ]) {
    assert.ok(ids.has(id), id);
  }
});
