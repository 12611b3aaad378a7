import assert from "node:assert/strict";
import { mergeUserModels } from "../src/models/catalog.js";
import { parseModelRef } from "../src/models/model-ref.js";
import { displayNameFromId } from "../src/providers/model-fields.js";
import { createProvider } from "../src/providers/registry.js";
import { type FakeUpstream, fixtureJson, startFakeHuggingFace } from "./helpers/fake-upstream.js";
import { after, before, beforeEach, test } from "./helpers/test.js";

let hf: FakeUpstream;
before(async () => {
  hf = await startFakeHuggingFace();
});
after(() => hf.close());
beforeEach(() => {
  hf.requests.length = 0;
  hf.route("GET /models", { body: fixtureJson("hf-models.json") });
});

const provider = () => createProvider("huggingface", { baseUrl: hf.url });

test("names come from name/title/display_name, else the built-in catalog, else the id", async () => {
  hf.route("GET /models", {
    body: {
      data: [
        { id: "org/with-name", name: "Named" },
        { id: "org/with-title", title: "Titled" },
        { id: "org/with-display", display_name: "Displayed" },
        { id: "deepseek-ai/DeepSeek-R1" },
        { id: "someone/Cool-Model-7B" },
      ],
    },
  });
  const names = (await provider().discoverModels({ apiKey: "hf_test" })).models.slice(0, 5).map((model) => model.name);
  assert.deepEqual(names, ["Named", "Titled", "Displayed", "DeepSeek R1", "Cool Model 7B"]);
  assert.equal(displayNameFromId("deepseek-ai/DeepSeek-R1"), "DeepSeek R1");
});

test("context window, price and tools come from live backends first", async () => {
  const models = (await provider().discoverModels({ apiKey: "hf_test" })).models;
  const v4 = models.find((model) => model.id === "deepseek-ai/DeepSeek-V4-Pro");
  assert.equal(v4?.contextWindow, 1048576);
  assert.deepEqual(v4?.cost, { input: 1.69, output: 3.38 });
  assert.equal(v4?.tools, true);
  assert.deepEqual(v4?.backends, ["novita", "together", "fireworks-ai", "featherless-ai", "deepinfra"]);
  const r1 = models.find((model) => model.id === "deepseek-ai/DeepSeek-R1");
  // deepinfra is in error: it is not a live backend.
  assert.deepEqual(r1?.backends, ["together"]);
  assert.equal(r1?.contextWindow, 131072);
  const qwen = models.find((model) => model.id === "Qwen/Qwen3.8-27B");
  assert.deepEqual(qwen?.input, ["text", "image"]);
});

test("discovery is merged with the built-in catalog", async () => {
  const models = (await provider().discoverModels({ apiKey: "hf_test" })).models;
  assert.ok(models.some((model) => model.id === "meta-llama/Llama-3.3-70B-Instruct"));
  assert.equal(models.filter((model) => model.id === "deepseek-ai/DeepSeek-R1").length, 1);
});

test("without a token only the built-in catalog is used, and the router is not called", async () => {
  const result = await provider().discoverModels({});
  assert.equal(result.source, "builtin");
  assert.equal(hf.requests.length, 0);
});

test("the token is sent as a bearer", async () => {
  await provider().discoverModels({ apiKey: "hf_abc" });
  assert.equal(hf.requests[0]?.headers.authorization, "Bearer hf_abc");
});

test("user entries win the merge field by field and are always kept", () => {
  const base = [{ provider: "huggingface", id: "deepseek-ai/DeepSeek-R1", name: "DeepSeek R1", contextWindow: 131072, input: ["text"] }];
  const merged = mergeUserModels("huggingface", base, [
    { id: "deepseek-ai/DeepSeek-R1", name: "My R1", maxTokens: 2048 },
    { id: "my-org/private-model", contextWindow: 4096 },
  ]);
  assert.deepEqual(merged[0], {
    provider: "huggingface",
    id: "deepseek-ai/DeepSeek-R1",
    name: "My R1",
    contextWindow: 131072,
    maxTokens: 2048,
    input: ["text"],
  });
  assert.deepEqual(merged[1], {
    provider: "huggingface",
    id: "my-org/private-model",
    name: "private model",
    contextWindow: 4096,
    input: ["text"],
  });
});

test("suffixes stay in the model id; the catalog id drops them", () => {
  const ids = new Set(["huggingface", "chutes"]);
  assert.deepEqual(parseModelRef("huggingface/Qwen/Qwen3-8B:cheapest", ids), {
    provider: "huggingface",
    modelId: "Qwen/Qwen3-8B:cheapest",
    baseId: "Qwen/Qwen3-8B",
    suffix: "cheapest",
    ref: "huggingface/Qwen/Qwen3-8B:cheapest",
  });
  assert.equal(parseModelRef("huggingface/deepseek-ai/DeepSeek-R1:together", ids)?.suffix, "together");
  assert.equal(parseModelRef("huggingface/deepseek-ai/DeepSeek-R1", ids)?.suffix, undefined);
  assert.equal(parseModelRef("nope/model", ids), undefined);
});

test("a suffixed model id reaches the router unchanged", async () => {
  const stream = await provider().chatStream(
    { model: "Qwen/Qwen3-8B:fastest", messages: [{ role: "user", content: "hi" }] },
    { apiKey: "hf_x" },
  );
  for await (const _ of stream) {
    // drain
  }
  assert.equal((hf.requests.at(-1)?.body as { model?: string } | undefined)?.model, "Qwen/Qwen3-8B:fastest");
});
