import assert from "node:assert/strict";
import OpenAI from "openai";
import { decodeFloat32Base64, encodeFloat32Base64 } from "../src/shared/float32-base64.js";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, fixtureJson, startFakeChutes, startFakeHuggingFace, startFakeUpstream } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, jsonOf, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, beforeEach, test } from "./helpers/test.js";

const MINILM = "sentence-transformers/all-MiniLM-L6-v2";
const FEATURE_PATH = `POST /hf-inference/models/${MINILM}/pipeline/feature-extraction`;
const fixture = fixtureJson<{
  response_float: { data: Array<{ embedding: number[] }> };
  response_base64: { data: Array<{ embedding: string }> };
}>("openai-embeddings.json");
const VECTOR = fixture.response_float.data[0]?.embedding as number[];

let chutes: FakeUpstream;
let embed: FakeUpstream;
let hf: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
let client: OpenAI;

before(async () => {
  chutes = await startFakeChutes();
  embed = await startFakeUpstream();
  hf = await startFakeHuggingFace();
  state = await createTestState({ CHUTES_API_KEY: "cpk_embed_test_key_00000000", HF_TOKEN: "hf_embed_test_token_0000000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url, embeddingsBaseUrl: embed.url }, huggingface: { baseUrl: hf.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" }, memorySearch: { provider: "huggingface", model: MINILM } } },
  });
  gateway = await startGateway(state);
  client = gateway.client();
});
after(async () => {
  await gateway.stop();
  for (const server of [chutes, embed, hf]) await server.close();
  await state.cleanup();
});
beforeEach(() => {
  for (const server of [chutes, embed, hf]) server.requests.length = 0;
  embed.route("POST /embeddings", (request) => {
    const { input } = request.body as { input: string | string[] };
    const texts = typeof input === "string" ? [input] : input;
    return {
      body: {
        object: "list",
        data: texts.map((_, index) => ({ object: "embedding", index, embedding: VECTOR.map((value) => value * (index + 1)) })),
        model: "Qwen/Qwen3-Embedding-8B",
        usage: { prompt_tokens: 8 * texts.length, total_tokens: 8 * texts.length },
      },
    };
  });
  hf.route(FEATURE_PATH, (request) => {
    const { inputs } = request.body as { inputs: string | string[] };
    return { body: typeof inputs === "string" ? [0.0312, -0.0457, 0.0819] : inputs.map((_, i) => [0.0312 + i, -0.0457, 0.0819]) };
  });
});

const close = (actual: number[], expected: number[]) => {
  assert.equal(actual.length, expected.length);
  for (const [i, value] of actual.entries()) assert.ok(Math.abs(value - (expected[i] as number)) < 1e-6, `${value} vs ${expected[i]}`);
};

test("base64 encoding is little-endian float32, as in the spec fixture", () => {
  assert.equal(encodeFloat32Base64(VECTOR), fixture.response_base64.data[0]?.embedding);
  close(decodeFloat32Base64(fixture.response_base64.data[0]?.embedding as string), VECTOR);
});

test("the SDK's default (base64) round-trips through the gateway from a separate embeddings host", async () => {
  const result = await client.embeddings.create({
    model: "chutes/Qwen/Qwen3-Embedding-8B",
    input: "The quick brown fox jumped over the lazy dog",
  });
  close(result.data[0]?.embedding as number[], VECTOR);
  assert.equal(result.model, "chutes/Qwen/Qwen3-Embedding-8B");
  assert.deepEqual(result.usage, { prompt_tokens: 8, total_tokens: 8 });
  const sent = embed.requests.at(-1) as { body: { model: string; encoding_format: string }; headers: Record<string, unknown> };
  assert.equal(sent.body.model, "Qwen/Qwen3-Embedding-8B");
  assert.equal(sent.body.encoding_format, "float");
  assert.equal(sent.headers.authorization, "Bearer cpk_embed_test_key_00000000");
  assert.equal(chutes.requests.filter((request) => request.method === "POST").length, 0);
});

test("float encoding, an array input, and dimensions passed through", async () => {
  const result = await client.embeddings.create({
    model: "chutes/Qwen/Qwen3-Embedding-8B",
    input: ["alpha", "beta"],
    encoding_format: "float",
    dimensions: 3,
  });
  assert.equal(result.data.length, 2);
  close(
    result.data[1]?.embedding as number[],
    VECTOR.map((value) => value * 2),
  );
  assert.equal((embed.requests.at(-1)?.body as { dimensions?: number } | undefined)?.dimensions, 3);
  const raw = await fetch(`${gateway.url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "chutes/Qwen/Qwen3-Embedding-8B", input: "x", encoding_format: "base64" }),
  });
  assert.equal(typeof (await jsonOf(raw)).data[0].embedding, "string");
});

test("Hugging Face embeddings go through the feature-extraction pipeline and come back OpenAI-shaped", async () => {
  const single = await client.embeddings.create({
    model: `huggingface/${MINILM}`,
    input: "Today is a sunny day",
    encoding_format: "float",
  });
  close(single.data[0]?.embedding as number[], [0.0312, -0.0457, 0.0819]);
  assert.deepEqual(hf.requests.at(-1)?.body, { inputs: "Today is a sunny day" });
  assert.equal(hf.requests.at(-1)?.headers.authorization, "Bearer hf_embed_test_token_0000000");
  const many = await client.embeddings.create({ model: `huggingface/${MINILM}`, input: ["Today is a sunny day", "The weather is nice"] });
  assert.equal(many.data.length, 2);
  close(many.data[1]?.embedding as number[], [1.0312, -0.0457, 0.0819]);
  assert.deepEqual(hf.requests.at(-1)?.body, { inputs: ["Today is a sunny day", "The weather is nice"] });
});

test("token-level answers are mean-pooled", async () => {
  hf.route(FEATURE_PATH, {
    body: [
      [1, 2],
      [3, 4],
    ],
  });
  const result = await client.embeddings.create({ model: `huggingface/${MINILM}`, input: "tokens", encoding_format: "float" });
  assert.deepEqual(result.data[0]?.embedding, [2, 3]);
});

test("without a model, the agent's memorySearch embedding model is used", async () => {
  const response = await fetch(`${gateway.url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ input: "remember this" }),
  });
  assert.equal(response.status, 200);
  const body = await jsonOf(response);
  assert.equal(body.model, `huggingface/${MINILM}`);
  assert.equal(body.data[0].embedding.length, 3);
});

test("token arrays are a clear 400 for Hugging Face", async () => {
  await assert.rejects(client.embeddings.create({ model: `huggingface/${MINILM}`, input: [1, 2, 3] }), (error) => {
    assert.ok(error instanceof OpenAI.BadRequestError);
    assert.match((error as Error).message, /not token arrays/);
    return true;
  });
});

test("bad input is a 400 naming the field", async () => {
  const response = await fetch(`${gateway.url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "chutes/x", input: [] }),
  });
  assert.equal(response.status, 400);
  assert.equal((await jsonOf(response)).error.param, "input");
});
