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
