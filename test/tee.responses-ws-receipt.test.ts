import assert from "node:assert/strict";
import { withReceiptMetadata } from "../src/gateway/responses-ws/receipt-metadata.js";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { ENCLAVE_REPLY } from "./helpers/fake-chutes-tee/inner-chat.js";
import { type FakeTeeStack, STACK_MODEL, startFakeTeeStack } from "./helpers/fake-chutes-tee/tee-stack.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";
import { connectWs } from "./helpers/ws-client.js";

/** The Responses WebSocket has no per-response headers: the receipt rides in `response.metadata.openclaw_tee`. */
let stack: FakeTeeStack;
let state: TestState;
let gateway: RunningGateway;
const SECRET = "ws-e2ee-canary-51c9";
const RECEIPT = /^instance=inst-[12]; quote-sha256=[0-9a-f]{64}; tcb=UpToDate; verified-at=\d{4}-\d\d-\d\dT[\d:.]+Z; target=[\w-]+$/;

before(async () => {
  stack = await startFakeTeeStack();
  state = await createTestState({ CHUTES_API_KEY: stack.fleet.credential });
  await writeConfig(state, {
    models: { providers: { chutes: stack.providerConfig() } },
    agents: { defaults: { model: { primary: `chutes/${STACK_MODEL}` } } },
  });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await stack.close();
  await state.cleanup();
});

test("Responses WebSocket, E2EE model: response.created and response.completed carry the receipt in metadata; the caller's own keys stay", async () => {
  const client = await connectWs(gateway.url);
  try {
    const events = await client.create({
      model: `chutes/${STACK_MODEL}`,
      input: SECRET,
      metadata: { openclaw_tee: "forged by the caller", ticket: "T-1" },
    });
    const created = events.find((event) => event.type === "response.created");
    const completed = events.find((event) => event.type === "response.completed");
    assert.ok(created && completed, JSON.stringify(events.map((event) => event.type)));
    assert.match(created.response.metadata.openclaw_tee, RECEIPT);
    assert.equal(completed.response.metadata.openclaw_tee, created.response.metadata.openclaw_tee);
    assert.equal(completed.response.metadata.ticket, "T-1");
    // Before any output, as a header would be.
    assert.ok(events.indexOf(created) < events.findIndex((event) => event.type === "response.output_text.delta"));
    const invoked = stack.e2ee.seen.filter((seen) => seen.path === "/e2e/invoke").at(-1);
    assert.match(created.response.metadata.openclaw_tee, new RegExp(`^instance=${invoked?.headers["x-instance-id"]};`));
    assert.equal(completed.response.output[0].content[0].text, ENCLAVE_REPLY);
    assert.equal(stack.plaintextChats, 0);
    // Sequence numbers still rise by one: no event was inserted.
    assert.deepEqual(
      events.map((event) => event.sequence_number),
      events.map((_, index) => events[0]!.sequence_number + index),
    );
  } finally {
    client.ws.close();
  }
});

test("receipt metadata: without a receipt a caller's openclaw_tee is dropped, other keys kept, events without a response untouched", () => {
  const created = { type: "response.created", response: { id: "resp_1", metadata: { openclaw_tee: "forged", ticket: "T-1" } } };
  assert.deepEqual(withReceiptMetadata(created, undefined).response, { id: "resp_1", metadata: { ticket: "T-1" } });
  assert.equal(created.response.metadata.openclaw_tee, "forged", "the stored object is not changed");
  const delta = { type: "response.output_text.delta", delta: "hi" };
  assert.equal(withReceiptMetadata(delta, "instance=x"), delta);
});
