import assert from "node:assert/strict";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeCollector, startFakeCollector } from "./helpers/fake-otlp.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";

const MODEL = "chutes/zai-org/GLM-5.1-TEE";

let chutes: FakeUpstream;
let collector: FakeCollector;
let state: TestState;

before(async () => {
  chutes = await startFakeChutes();
  collector = await startFakeCollector();
  state = await createTestState({ CHUTES_API_KEY: "cpk_trace_flush_test_0000000000" });
  await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url } } }, agents: { defaults: { model: MODEL } } });
});
after(async () => {
  await collector.close();
  await chutes.close();
  await state.cleanup();
});

test("spans still queued at shutdown are exported before the gateway exits", async () => {
  // A batch delay far longer than the test: only the shutdown's flush can send them.
  const gateway = await startGateway(state, ["--enable-endpoints"], {
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    OTEL_BSP_SCHEDULE_DELAY: "600000",
  });
  await gateway.client({ headers: { "x-request-id": "req_flushed_at_exit" } }).chat.completions.create({
    model: MODEL,
    messages: [{ role: "user", content: "hi" }],
  });
  assert.equal(collector.spans.length, 0, "nothing exported before the batch delay");
  assert.equal(await gateway.stop(), 0);
  const names = collector.spans.filter((span) => span.traceId).map((span) => span.name);
  assert.ok(collector.spans.some((span) => span.attributes["openclaw.request_id"] === "req_flushed_at_exit"));
  assert.deepEqual(names.sort(), ["POST /v1/chat/completions", "chat zai-org/GLM-5.1-TEE"]);
});
