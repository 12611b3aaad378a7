import assert from "node:assert/strict";
import { featureExtraction } from "../src/providers/huggingface/feature-extraction.js";
import { OpenAICompatibleClient } from "../src/providers/openai-compatible/client.js";
import { type FakeUpstream, startFakeUpstream } from "./helpers/fake-upstream.js";
import { after, before, test } from "./helpers/test.js";

// Below the gateway's model-id check, the feature-extraction URL is built from encoded segments:
// whatever id a caller passes, the request stays on the model's own path.

let hf: FakeUpstream;
let client: OpenAICompatibleClient;
let base: string;

before(async () => {
  hf = await startFakeUpstream();
  hf.route("POST *", { body: [0.1, 0.2] });
  client = new OpenAICompatibleClient({ providerId: "huggingface", baseUrl: hf.url });
  base = `${hf.origin}/hf-inference/models`;
});
after(() => hf.close());

test("characters that would end or redirect the path are percent-encoded inside their segment", async () => {
  await featureExtraction(client, base, { model: "org/name#x?y=1", input: "hi" }, { apiKey: "hf_path_test_token_000000" });
  assert.equal(hf.requests.at(-1)?.path, "/hf-inference/models/org/name%23x%3Fy%3D1/pipeline/feature-extraction");
});

test("a model id with a '..' or empty segment is refused before any request", async () => {
  const before = hf.requests.length;
  for (const model of ["../../etc/passwd", "org/../x", "org//x"]) {
    await assert.rejects(featureExtraction(client, base, { model, input: "hi" }, {}), /invalid model id/);
  }
  assert.equal(hf.requests.length, before);
});
