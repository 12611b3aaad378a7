import assert from "node:assert/strict";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { decryptResponse } from "../src/providers/chutes/tee/e2ee/decrypt-response.js";
import { decapsulate, deriveKey, INFO_REQUEST, INFO_RESPONSE, INFO_STREAM } from "../src/providers/chutes/tee/e2ee/e2ee-crypto.js";
import { E2eeStreamDecryptor } from "../src/providers/chutes/tee/e2ee/stream-decryptor.js";
import { fixtureJson } from "./helpers/fake-upstream.js";
import { test } from "./helpers/test.js";

/**
 * No public vector exists for Chutes' E2EE layer, so this one was written with pyca/cryptography
 * (the library chutes-e2ee's crypto.py uses) following that file's derive_key and chacha_encrypt,
 * over a deterministic ML-KEM-768 encapsulation (test/fixtures/tee-e2ee-kat.gen.py).
 */
const kat = fixtureJson<{
  mlkem_seed_hex: string;
  kem_ct_b64: string;
  request_key_hex: string;
  response_key_hex: string;
  stream_key_hex: string;
  response_blob_b64: string;
  response_json: unknown;
  stream_chunk_b64: string;
  stream_fragment: string;
}>("tee-e2ee-kat.json");

const responseKey = { secretKey: ml_kem768.keygen(Buffer.from(kat.mlkem_seed_hex, "hex")).secretKey };
const kemCiphertext = Buffer.from(kat.kem_ct_b64, "base64");
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

test("known answer: HKDF salt and labels give pyca's keys for each direction", () => {
  const sharedSecret = decapsulate(kemCiphertext, responseKey);
  assert.equal(hex(deriveKey(sharedSecret, kemCiphertext, INFO_REQUEST)), kat.request_key_hex);
  assert.equal(hex(deriveKey(sharedSecret, kemCiphertext, INFO_RESPONSE)), kat.response_key_hex);
  assert.equal(hex(deriveKey(sharedSecret, kemCiphertext, INFO_STREAM)), kat.stream_key_hex);
});

test("known answer: a response blob written by pyca decrypts to its JSON", async () => {
  const { payload } = await decryptResponse(Buffer.from(kat.response_blob_b64, "base64"), responseKey);
  assert.deepEqual(payload, kat.response_json);
});

test("known answer: a stream chunk written by pyca decrypts to its SSE fragment", () => {
  const stream = new E2eeStreamDecryptor(responseKey);
  const text = stream.push(`data: {"e2e_init": "${kat.kem_ct_b64}"}\n\ndata: {"e2e": "${kat.stream_chunk_b64}"}\n\n`);
  assert.equal(text, kat.stream_fragment);
});
