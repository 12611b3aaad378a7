import assert from "node:assert/strict";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes, startFakeHuggingFace } from "./helpers/fake-upstream.js";
import { jsonOf, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, beforeEach, test } from "./helpers/test.js";

// A model id ends up in upstream URLs (Hugging Face embeddings put it in the path), sent with the
// provider's token: anything that is not a model id is refused before it gets there.

let chutes: FakeUpstream;
let hf: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

before(async () => {
  chutes = await startFakeChutes();
  hf = await startFakeHuggingFace();
  state = await createTestState({ CHUTES_API_KEY: "cpk_model_id_test_key_000000", HF_TOKEN: "hf_model_id_test_token_000000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url }, huggingface: { baseUrl: hf.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
  });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await hf.close();
  await state.cleanup();
});
beforeEach(() => {
  hf.requests.length = 0;
  chutes.requests.length = 0;
  hf.route("POST *", { body: [0.1, 0.2] });
});

const post = (endpoint: string, body: unknown) =>
  fetch(`${gateway.url}/v1/${endpoint}`, {
    method: "POST",
    headers: { authorization: `Bearer ${gateway.client().apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

for (const model of [
  "huggingface/../../etc/passwd#",
  "huggingface/org/../../other",
  "huggingface/org/name#fragment",
  "huggingface/org/name?wait=true",
  "huggingface/org//name",
  "huggingface/org/na me",
  "huggingface/org/%2e%2e/x",
]) {
  test(`embeddings with model ${JSON.stringify(model)} is a 400 invalid_model and never reaches Hugging Face`, async () => {
    const response = await post("embeddings", { model, input: "hi" });
    const body = await jsonOf(response);
    assert.equal(response.status, 400, JSON.stringify(body));
    assert.equal(body.error.code, "invalid_model");
    assert.equal(body.error.param, "model");
    assert.deepEqual(
      hf.requests.filter((request) => request.method === "POST"),
      [],
    );
  });
}

test("a 5 MB model id is a 400 naming the field, not a lookup", async () => {
  const response = await post("chat/completions", {
    model: `chutes/${"a".repeat(5 * 1024 * 1024)}`,
    messages: [{ role: "user", content: "hi" }],
  });
  const body = await jsonOf(response);
  assert.equal(response.status, 400, JSON.stringify(body).slice(0, 300));
  // The gateway's field cap answers before the id is parsed.
  assert.equal(body.error.code, "string_above_max_length");
  assert.equal(body.error.param, "model");
  assert.ok(body.error.message.length < 400, "the message does not quote the whole id");
  assert.deepEqual(chutes.requests, []);
});

test("a real model id reaches the feature-extraction path exactly", async () => {
  const response = await post("embeddings", { model: "huggingface/sentence-transformers/all-MiniLM-L6-v2", input: "hi" });
  assert.equal(response.status, 200);
  assert.deepEqual(
    hf.requests.map((request) => request.path),
    ["/hf-inference/models/sentence-transformers/all-MiniLM-L6-v2/pipeline/feature-extraction"],
  );
});
