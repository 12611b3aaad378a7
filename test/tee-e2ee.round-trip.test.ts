import assert from "node:assert/strict";
import { decryptResponse } from "../src/providers/chutes/tee/e2ee/decrypt-response.js";
import { encryptRequest } from "../src/providers/chutes/tee/e2ee/encrypt-request.js";
import { decryptSseStream, E2eeStreamDecryptor } from "../src/providers/chutes/tee/e2ee/stream-decryptor.js";
import { SseDecoder } from "../src/providers/openai-compatible/sse-decoder.js";
import { type FakeE2eeOptions, startFakeE2ee } from "./helpers/fake-chutes-tee/fake-e2ee.js";
import { ENCLAVE_REPLY, INNER_USAGE } from "./helpers/fake-chutes-tee/inner-chat.js";
import { after, test } from "./helpers/test.js";

const MARKER = "PLAINTEXT-PROMPT-MARKER-7f3a";
const running: Array<{ close(): Promise<void> }> = [];
after(async () => {
  for (const fake of running) await fake.close();
});

async function start(options: FakeE2eeOptions = {}) {
  const fake = await startFakeE2ee(options);
  running.push(fake);
  return fake;
}

async function invoke(origin: string, stream: boolean) {
  const listed = (await (await fetch(`${origin}/e2e/instances/chute-tee`, { headers: { authorization: "Bearer k" } })).json()) as {
    instances: Array<{ instance_id: string; e2e_pubkey: string; nonces: string[] }>;
  };
  const instance = listed.instances[0]!;
  const payload = { model: "m", messages: [{ role: "user", content: MARKER }], stream };
  const { body, responseKey } = await encryptRequest(payload, instance.e2e_pubkey);
  const response = await fetch(`${origin}/e2e/invoke`, {
    method: "POST",
    body,
    headers: {
      authorization: "Bearer k",
      "content-type": "application/octet-stream",
      "x-chute-id": "chute-tee",
      "x-instance-id": instance.instance_id,
      "x-e2e-nonce": instance.nonces[0]!,
      "x-e2e-stream": String(stream),
      "x-e2e-path": "/v1/chat/completions",
    },
  });
  return { response, responseKey };
}

function assertCiphertextOnly(seen: Array<{ body: Buffer; headers: Record<string, unknown> }>) {
  for (const request of seen) {
    assert.ok(!request.body.toString("latin1").includes(MARKER), "the prompt crossed the wire in plaintext");
    assert.ok(!JSON.stringify(request.headers).includes(MARKER));
  }
}

for (const responseFormat of ["envelope", "raw"] as const) {
  test(`a non-streamed answer round-trips through the fake instance (${responseFormat} body)`, async () => {
    const fake = await start({ responseFormat });
    const { response, responseKey } = await invoke(fake.origin, false);
    assert.equal(response.status, 200);
    const { payload, relayUsage } = await decryptResponse(new Uint8Array(await response.arrayBuffer()), responseKey);
    const completion = payload as { choices: Array<{ message: { content: string } }>; usage: unknown };
    assert.equal(completion.choices[0]?.message.content, ENCLAVE_REPLY);
    assert.deepEqual(completion.usage, INNER_USAGE);
    assert.deepEqual(relayUsage, responseFormat === "envelope" ? INNER_USAGE : undefined);
    // The instance saw the prompt; the relay's wire never did.
    const seenByInstance = fake.fake.innerRequests[0]?.body.messages as Array<{ content: string }> | undefined;
    assert.equal(seenByInstance?.[0]?.content, MARKER);
    assert.equal(fake.fake.innerRequests[0]?.body.e2e_response_pk, undefined);
    assertCiphertextOnly(fake.fake.seen);
  });
}

test("a streamed answer decrypts to the model server's SSE, [DONE] and usage included", async () => {
  const fake = await start();
  const { response, responseKey } = await invoke(fake.origin, true);
  assert.equal(response.status, 200);
  const decryptor = new E2eeStreamDecryptor(responseKey);
  let plaintext = "";
  for await (const bytes of response.body!) plaintext += decryptor.push(bytes as Uint8Array);
  plaintext += decryptor.end();
  const events = new SseDecoder().push(plaintext);
  const chunks = events.filter((event) => event.data !== "[DONE]").map((event) => JSON.parse(event.data));
  const text = chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? "").join("");
  assert.equal(text, ENCLAVE_REPLY);
  assert.deepEqual(chunks.at(-1).usage, INNER_USAGE);
  assert.equal(events.at(-1)?.data, "[DONE]");
  assert.equal(decryptor.complete, true);
  assert.deepEqual(decryptor.relayUsage, INNER_USAGE);
  assertCiphertextOnly(fake.fake.seen);
});

test("a stream fed one byte at a time decrypts to the same text", async () => {
  const fake = await start({ plaintextUsage: false });
  const { response, responseKey } = await invoke(fake.origin, true);
  const wire = Buffer.from(await response.arrayBuffer());
  const whole = new E2eeStreamDecryptor(responseKey);
  const expected = whole.push(wire) + whole.end();
  const trickled = new E2eeStreamDecryptor(responseKey);
  let plaintext = "";
  for (let i = 0; i < wire.length; i++) plaintext += trickled.push(wire.subarray(i, i + 1));
  plaintext += trickled.end();
  assert.equal(plaintext, expected);
  assert.ok(plaintext.includes("data: [DONE]"));
  assert.equal(trickled.relayUsage, undefined);
});

test("an e2e_error event ends the stream with the instance's error", async () => {
  const fake = await start({ streamErrorAfter: 2 });
  const { response, responseKey } = await invoke(fake.origin, true);
  const decryptor = new E2eeStreamDecryptor(responseKey);
  const wire = Buffer.from(await response.arrayBuffer());
  assert.throws(() => decryptor.push(wire), { code: "e2ee_upstream_error", message: /inference failed inside the enclave/ });
});

test("decryptSseStream yields the plaintext and returns its source when the consumer stops", async () => {
  const fake = await start();
  const { response, responseKey } = await invoke(fake.origin, true);
  const wire = Buffer.from(await response.arrayBuffer());
  let returned = false;
  async function* source() {
    try {
      for (let i = 0; i < wire.length; i += 100) yield wire.subarray(i, i + 100);
    } finally {
      returned = true;
    }
  }
  let plaintext = "";
  for await (const text of decryptSseStream(source(), responseKey)) plaintext += text;
  assert.match(plaintext, /data: \[DONE\]/);
  returned = false;
  for await (const text of decryptSseStream(source(), responseKey)) if (text) break;
  assert.equal(returned, true);
});
