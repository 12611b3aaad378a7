import assert from "node:assert/strict";
import type { AttestationReceipt, Provider } from "../src/providers/provider.js";
import { createProvider } from "../src/providers/registry.js";
import type { ChatChunk } from "../src/shared/wire.js";
import { ENCLAVE_REPLY, INNER_USAGE } from "./helpers/fake-chutes-tee/inner-chat.js";
import { type FakeTeeStack, STACK_MODEL, startFakeTeeStack } from "./helpers/fake-chutes-tee/tee-stack.js";
import { after, before, beforeEach, test } from "./helpers/test.js";

const SECRET_PROMPT = "the launch code is 0000-PLAINTEXT-CANARY";
let stack: FakeTeeStack;

before(async () => {
  stack = await startFakeTeeStack();
});
after(() => stack.close());
beforeEach(() => {
  stack.fleet.tee.tamper.clear();
  stack.nras.tamper = {};
  stack.e2ee.seen.length = 0;
  stack.e2ee.innerRequests.length = 0;
  for (const instance of stack.e2ee.instances) instance.state = "active";
});

/** A fresh provider (empty attestation cache), configured as a user would. */
const provider = (tee: Record<string, unknown> = {}): Provider =>
  createProvider("chutes", stack.providerConfig({}, tee) as never, { configDir: process.cwd() });
const call = () => ({ apiKey: stack.fleet.credential });
const request = (extra: Record<string, unknown> = {}) => ({
  model: STACK_MODEL,
  messages: [{ role: "user" as const, content: SECRET_PROMPT }],
  ...extra,
});
const invokes = () => stack.e2ee.seen.filter((seen) => seen.path === "/e2e/invoke");

test("an E2EE chat round trip: ciphertext on the wire, the plaintext endpoint never called, a receipt for the attested instance", async () => {
  const receipts: AttestationReceipt[] = [];
  const answer = await provider().chat(request(), { ...call(), onReceipt: (receipt) => receipts.push(receipt) });
  assert.equal(answer.choices[0]?.message.content, ENCLAVE_REPLY);
  assert.deepEqual(answer.usage, INNER_USAGE);
  assert.equal(stack.plaintextChats, 0);
  assert.equal(invokes().length, 1);
  const wire = invokes()[0]!;
  assert.ok(!wire.body.includes(Buffer.from("CANARY")), "the prompt never crosses the wire in clear");
  assert.equal(wire.headers["x-e2e-path"], "/v1/chat/completions");
  assert.equal(wire.headers["x-chute-id"], "5e0c3f7a-1b2d-4c3e-9f8a-7b6c5d4e3f2a", "the chute id from /v1/models");
  const inner = stack.e2ee.innerRequests[0]?.body.messages as Array<{ content: string }> | undefined;
  assert.equal(inner?.[0]?.content, SECRET_PROMPT, "the enclave, and only it, saw the prompt");
  assert.equal(receipts.length, 1);
  assert.equal(receipts[0]?.instanceId, wire.headers["x-instance-id"]);
  assert.match(receipts[0]?.quoteSha256 ?? "", /^[0-9a-f]{64}$/);
  assert.equal(receipts[0]?.tcbStatus, "UpToDate");
});

test("an E2EE stream decrypts into ordinary chunks, with usage, and each request spends its own nonce", async () => {
  const chutes = provider();
  const chunks: ChatChunk[] = [];
  for await (const chunk of await chutes.chatStream(request({ stream_options: { include_usage: true } }), call())) chunks.push(chunk);
  const text = chunks.map((chunk) => chunk.choices?.[0]?.delta?.content ?? "").join("");
  assert.equal(text, ENCLAVE_REPLY);
  assert.deepEqual(chunks.find((chunk) => chunk.usage)?.usage, INNER_USAGE);
  await chutes.chat(request(), call());
  const nonces = invokes().map((seen) => seen.headers["x-e2e-nonce"]);
  assert.equal(new Set(nonces).size, 2, "a nonce is never sent twice");
  assert.equal(stack.plaintextChats, 0);
});

test("an instance gone (410) or at capacity (429) hands the request to the next attested instance, then fails clearly", async () => {
  const chutes = provider();
  stack.e2ee.instances[0]!.state = "gone";
  const receipts: AttestationReceipt[] = [];
  const answer = await chutes.chat(request(), { ...call(), onReceipt: (receipt) => receipts.push(receipt) });
  assert.equal(answer.choices[0]?.message.content, ENCLAVE_REPLY);
  assert.equal(receipts[0]?.instanceId, "inst-2");
  stack.e2ee.instances[1]!.state = "at-capacity";
  await assert.rejects(chutes.chat(request(), call()), (error: Error & { status?: number }) => {
    assert.equal(error.status, 503);
    assert.match(error.message, /no attested instance of .* took the request \(.*inst-2: 429/);
    return true;
  });
  assert.equal(stack.plaintextChats, 0);
});

for (const [label, tamper, check] of [
  ["a measurement not listed", { unlistedRtmr3: true }, "measurements"],
  ["replayed evidence (bound to an earlier nonce)", { replay: true }, "nonce-binding"],
  ["a broken quote signature", { breakSignature: true }, "quote"],
] as const) {
  test(`no plaintext fallback: ${label} on every instance refuses the request (502) naming the ${check} check`, async () => {
    // Replay needs an earlier nonce to replay: one honest verification first.
    if ("replay" in tamper) await createProvider("chutes", stack.providerConfig() as never).chat(request(), call());
    stack.e2ee.seen.length = 0;
    for (const id of ["inst-1", "inst-2"]) stack.fleet.tee.tamper.set(id, tamper);
    await assert.rejects(provider().chat(request(), call()), (error: Error & { status?: number }) => {
      assert.equal(error.status, 502);
      assert.match(error.message, new RegExp(`${check} check failed`));
      return true;
    });
    assert.equal(invokes().length, 0, "nothing was encrypted to a refused instance");
    assert.equal(stack.plaintextChats, 0);
  });
}

test("GPU verifier unreachable: refused, naming the gpu check, nothing sent", async () => {
  await assert.rejects(provider({ gpuVerifierUrl: "http://127.0.0.1:9" }).chat(request(), call()), /gpu check failed/);
  assert.equal(invokes().length, 0);
  assert.equal(stack.plaintextChats, 0);
});
