import assert from "node:assert/strict";
import { credentialVariants, REDACTED, scrubErrorText, scrubExact } from "../src/shared/scrub.js";
import { test } from "./helpers/test.js";

const KEY = "cpk_unit_scrub_key/with+odd=chars";

test("a request's credentials are removed raw, percent-encoded and JSON-escaped", () => {
  const secrets = credentialVariants([KEY, undefined, "short"]);
  const text = `a ${KEY} b ${encodeURIComponent(KEY)} c ${JSON.stringify(KEY)}`;
  const scrubbed = scrubExact(text, secrets);
  assert.equal(scrubbed, `a ${REDACTED} b ${REDACTED} c "${REDACTED}"`);
});

test("short values (a header saying `true`) are never scrubbed", () => {
  assert.deepEqual(credentialVariants(["true", "1", ""]), []);
});

test("error texts also lose anything shaped like a bearer token or a known key prefix", () => {
  const text = "got Bearer abcdefghijklmnop, hf_abcdefghijklmno and sk-proj-abcdefghijkl; task-abcdefghijk stays";
  assert.equal(scrubErrorText(text, []), `got Bearer ${REDACTED}, ${REDACTED} and ${REDACTED}; task-abcdefghijk stays`);
});

test("a key echoed with JSON escapes (`\\/`, `\\uXXXX`) in an error body is scrubbed after parsing too", async () => {
  const { OpenAICompatibleClient } = await import("../src/providers/openai-compatible/client.js");
  const { startFakeUpstream } = await import("./helpers/fake-upstream.js");
  const upstream = await startFakeUpstream();
  try {
    const key = "cpk_escaped/echo/key_0123456789";
    const unicode = [...key].map((char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`).join("");
    const client = new OpenAICompatibleClient({ providerId: "fake", baseUrl: upstream.url });
    for (const echoed of [key.replaceAll("/", "\\/"), unicode]) {
      upstream.route("POST /chat/completions", { status: 401, body: `{"error":{"message":"bad key ${echoed}"}}` });
      await assert.rejects(client.chat({ model: "m", messages: [{ role: "user", content: "hi" }] }, { apiKey: key }), (error: Error) => {
        assert.ok(!error.message.includes(key), error.message);
        assert.ok(!error.message.includes("echo/key"), error.message);
        return true;
      });
    }
  } finally {
    await upstream.close();
  }
});
