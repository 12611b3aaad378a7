import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { decryptResponse } from "../src/providers/chutes/tee/e2ee/decrypt-response.js";
import { encryptRequest } from "../src/providers/chutes/tee/e2ee/encrypt-request.js";
import { E2eeStreamDecryptor } from "../src/providers/chutes/tee/e2ee/stream-decryptor.js";
import { newInstanceKeys, openRequest, sealResponse, streamSealer } from "./helpers/fake-chutes-tee/instance-crypto.js";
import { test } from "./helpers/test.js";

const SECRET_ANSWER = "SECRET-ANSWER-TEXT";

/** A request as the instance receives it: the client keeps `responseKey`, the instance learns the response public key. */
async function exchange() {
  const instance = newInstanceKeys();
  const { body, responseKey } = await encryptRequest({ model: "m", messages: [] }, instance.publicKeyB64);
  const { responsePublicKey } = openRequest(Buffer.from(body), instance.secretKey);
  return { responseKey, responsePublicKey };
}

const answer = Buffer.from(JSON.stringify({ choices: [{ index: 0, message: { role: "assistant", content: SECRET_ANSWER } }] }));
const data = (value: unknown) => `data: ${JSON.stringify(value)}\n\n`;
const fragment = (content: string) => data({ choices: [{ index: 0, delta: { content } }] });

test("a non-streamed answer with one flipped ciphertext byte is refused", async () => {
  const { responseKey, responsePublicKey } = await exchange();
  const blob = sealResponse(responsePublicKey, answer);
  await decryptResponse(blob, responseKey); // untouched, it opens
  blob[blob.length - 20]! ^= 0x01;
  await assert.rejects(decryptResponse(blob, responseKey), { code: "e2ee_decrypt_failed" });
  const envelope = Buffer.from(JSON.stringify({ e2e: blob.toString("base64") }));
  await assert.rejects(decryptResponse(envelope, responseKey), { code: "e2ee_decrypt_failed" });
});

test("an answer sealed to another client's key is refused", async () => {
  const mine = await exchange();
  const theirs = await exchange();
  const blob = sealResponse(theirs.responsePublicKey, answer);
  await assert.rejects(decryptResponse(blob, mine.responseKey), { code: "e2ee_decrypt_failed" });
  const sealer = streamSealer(theirs.responsePublicKey);
  const stream = new E2eeStreamDecryptor(mine.responseKey);
  stream.push(data({ e2e_init: sealer.init }));
  assert.throws(() => stream.push(data({ e2e: sealer.chunk(fragment(SECRET_ANSWER)) })), { code: "e2ee_decrypt_failed" });
});

test("an answer that inflates past the cap is refused as a decompression bomb", async () => {
  const { responseKey, responsePublicKey } = await exchange();
  const cap = 1024 * 1024;
  const bomb = gzipSync(Buffer.alloc(8 * cap, 0x20)); // ~8 KiB on the wire, 8 MiB inflated
  assert.ok(bomb.length < cap / 64);
  const blob = sealResponse(responsePublicKey, Buffer.alloc(0), bomb);
  await assert.rejects(decryptResponse(blob, responseKey, { maxInflatedBytes: cap }), { code: "e2ee_too_large" });
  // The same cap lets an ordinary answer through.
  await decryptResponse(sealResponse(responsePublicKey, answer), responseKey, { maxInflatedBytes: cap });
});

test("a decrypted answer nested past the JSON depth bound is refused", async () => {
  const { responseKey, responsePublicKey } = await exchange();
  const deep = Buffer.from(`${"[".repeat(100)}${"]".repeat(100)}`);
  await assert.rejects(decryptResponse(sealResponse(responsePublicKey, deep), responseKey), { code: "e2ee_too_large" });
});

test("an answer body past its size bound is refused before any decryption", async () => {
  const { responseKey, responsePublicKey } = await exchange();
  const blob = sealResponse(responsePublicKey, answer);
  await assert.rejects(decryptResponse(blob, responseKey, { maxBodyBytes: blob.length - 1 }), { code: "e2ee_too_large" });
});

test("an encrypted stream chunk before e2e_init is refused", async () => {
  const { responseKey, responsePublicKey } = await exchange();
  const sealer = streamSealer(responsePublicKey);
  const stream = new E2eeStreamDecryptor(responseKey);
  assert.throws(() => stream.push(data({ e2e: sealer.chunk(fragment(SECRET_ANSWER)) })), {
    code: "e2ee_protocol",
    message: /before `e2e_init`/,
  });
});

test("a stream chunk with a flipped byte is refused and none of it is passed on", async () => {
  const { responseKey, responsePublicKey } = await exchange();
  const sealer = streamSealer(responsePublicKey);
  const stream = new E2eeStreamDecryptor(responseKey);
  assert.equal(stream.push(data({ e2e_init: sealer.init })), "");
  const box = Buffer.from(sealer.chunk(fragment(SECRET_ANSWER)), "base64");
  box[14]! ^= 0x80;
  assert.throws(() => stream.push(data({ e2e: box.toString("base64") })), { code: "e2ee_decrypt_failed" });
});

test("a replayed stream chunk is refused", async () => {
  const { responseKey, responsePublicKey } = await exchange();
  const sealer = streamSealer(responsePublicKey);
  const stream = new E2eeStreamDecryptor(responseKey);
  const chunk = data({ e2e: sealer.chunk(fragment("once")) });
  assert.match(stream.push(data({ e2e_init: sealer.init }) + chunk), /once/);
  assert.throws(() => stream.push(chunk), { code: "e2ee_protocol", message: /repeated/ });
});

test("plaintext chat chunks and other garbage in an E2EE stream are refused, never passed through", async () => {
  const { responseKey, responsePublicKey } = await exchange();
  const sealer = streamSealer(responsePublicKey);
  const chunkWithUsage = data({ choices: [{ index: 0, delta: { content: SECRET_ANSWER } }], usage: { prompt_tokens: 1 } });
  for (const garbage of [
    fragment(SECRET_ANSWER),
    chunkWithUsage,
    "data: not json\n\n",
    `${JSON.stringify({ something: "else" })}\n\n`,
    data({ e2e: "%%%" }),
  ]) {
    const stream = new E2eeStreamDecryptor(responseKey);
    stream.push(data({ e2e_init: sealer.init }));
    assert.throws(() => stream.push(garbage), { code: "e2ee_protocol" }, garbage);
  }
});

test("a plaintext [DONE] from the relay does not end or complete the stream", async () => {
  const { responseKey, responsePublicKey } = await exchange();
  const sealer = streamSealer(responsePublicKey);
  const stream = new E2eeStreamDecryptor(responseKey);
  const out = stream.push(data({ e2e_init: sealer.init }) + data({ e2e: sealer.chunk(fragment("a")) }) + "data: [DONE]\n\n");
  assert.ok(!out.includes("[DONE]"));
  assert.equal(stream.complete, false);
  assert.match(stream.push(data({ e2e: sealer.chunk("data: [DONE]\n\n") })), /\[DONE\]/);
  assert.equal(stream.complete, true);
});

test("a stream that ends without e2e_init is refused", async () => {
  const { responseKey } = await exchange();
  const stream = new E2eeStreamDecryptor(responseKey);
  stream.push(data({ usage: { prompt_tokens: 1 } }));
  assert.throws(() => stream.end(), { code: "e2ee_protocol", message: /before its `e2e_init`/ });
});

test("an oversized stream event is refused", async () => {
  const { responseKey } = await exchange();
  const stream = new E2eeStreamDecryptor(responseKey, { maxEventChars: 1000 });
  assert.throws(() => stream.push(`data: {"e2e": "${"A".repeat(2000)}`), { code: "e2ee_too_large" });
});

test("a request to a key that is not ML-KEM-768 is refused before anything is sent", async () => {
  await assert.rejects(encryptRequest({}, Buffer.alloc(800).toString("base64")), { code: "e2ee_bad_key" });
  await assert.rejects(encryptRequest({}, "not base64!"), { code: "e2ee_bad_key" });
});

test("base64 with characters outside the alphabet is refused rather than decoded around", async () => {
  const { responseKey, responsePublicKey } = await exchange();
  const sealer = streamSealer(responsePublicKey);
  const stream = new E2eeStreamDecryptor(responseKey);
  stream.push(data({ e2e_init: sealer.init }));
  const chunk = sealer.chunk(fragment("x"));
  assert.throws(() => stream.push(data({ e2e: `${chunk.slice(0, 8)} ${chunk.slice(8)}` })), {
    code: "e2ee_protocol",
    message: /not base64/,
  });
});

test("an error the relay writes in clear mid-stream is an error, never content", async () => {
  const { responseKey, responsePublicKey } = await exchange();
  const sealer = streamSealer(responsePublicKey);
  for (const line of [data({ detail: "Internal error during E2E invocation" }), `${JSON.stringify({ error: { message: "boom" } })}\n`]) {
    const stream = new E2eeStreamDecryptor(responseKey);
    stream.push(data({ e2e_init: sealer.init }));
    assert.throws(() => stream.push(line), { code: "e2ee_upstream_error", message: /relay reported an error mid-stream/ });
  }
});

test("a stream past its chunk bound is refused", async () => {
  const { responseKey, responsePublicKey } = await exchange();
  const sealer = streamSealer(responsePublicKey);
  const stream = new E2eeStreamDecryptor(responseKey, { maxChunks: 2 });
  stream.push(data({ e2e_init: sealer.init }) + data({ e2e: sealer.chunk(fragment("a")) }) + data({ e2e: sealer.chunk(fragment("b")) }));
  assert.throws(() => stream.push(data({ e2e: sealer.chunk(fragment("c")) })), { code: "e2ee_too_large" });
});
