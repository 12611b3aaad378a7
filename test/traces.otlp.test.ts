import assert from "node:assert/strict";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeCollector, type ReceivedSpan, startFakeCollector } from "./helpers/fake-otlp.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

const MODEL = "chutes/zai-org/GLM-5.1-TEE";
const PROMPT = "what is the capital of France?";

let chutes: FakeUpstream;
let collector: FakeCollector;
let state: TestState;
let gateway: RunningGateway;

const config = (captureContent: boolean) => ({
  models: { providers: { chutes: { baseUrl: chutes.url } } },
  agents: { defaults: { model: MODEL } },
  gateway: { telemetry: { captureContent } },
});

before(async () => {
  chutes = await startFakeChutes();
  collector = await startFakeCollector();
  state = await createTestState({ CHUTES_API_KEY: "cpk_traces_test_00000000000000" });
  await writeConfig(state, config(false));
  gateway = await startGateway(state, ["--enable-endpoints"], {
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.endpoint,
    // Export every 50 ms instead of every 5 s: the standard variable, so the test waits less.
    OTEL_BSP_SCHEDULE_DELAY: "50",
  });
});
after(async () => {
  await gateway.stop();
  await collector.close();
  await chutes.close();
  await state.cleanup();
});

/** The request span with this request id and its attempt spans, once exported. */
async function spansOf(requestId: string): Promise<{ request: ReceivedSpan; attempts: ReceivedSpan[] }> {
  const request = await waitUntil(() => collector.spans.find((span) => span.attributes["openclaw.request_id"] === requestId), {
    what: `the span of ${requestId}`,
  });
  const attempts = await waitUntil(
    () => {
      const children = collector.spans.filter((span) => span.parentSpanId === request.spanId);
      return children.length ? children : undefined;
    },
    { what: "its attempt spans" },
  );
  return { request, attempts };
}

const ask = (requestId: string, headers: Record<string, string> = {}, stream = false) =>
  fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: {
      authorization: `Bearer test-gateway-token-0123456789`,
      "content-type": "application/json",
      "x-request-id": requestId,
      ...headers,
    },
    body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: PROMPT }], temperature: 0.2, ...(stream ? { stream } : {}) }),
  }).then(async (response) => {
    assert.equal(response.status, 200);
    return response.text();
  });

test("a request span (SERVER) and its attempt span (CLIENT, child) reach the collector with the GenAI attributes and no content", async () => {
  await ask("req_trace_plain");
  const { request, attempts } = await spansOf("req_trace_plain");
  assert.equal(request.kind, 2);
  assert.equal(request.name, "POST /v1/chat/completions");
  assert.equal(request.resource["service.name"], "openclaw-gateway");
  assert.equal(request.attributes["http.response.status_code"], 200);
  assert.equal(request.attributes["gen_ai.operation.name"], "chat");
  assert.equal(attempts.length, 1);
  const [attempt] = attempts as [ReceivedSpan];
  assert.equal(attempt.kind, 3);
  assert.equal(attempt.traceId, request.traceId);
  assert.equal(attempt.name, "chat zai-org/GLM-5.1-TEE");
  const origin = new URL(chutes.url);
  assert.deepEqual(
    {
      operation: attempt.attributes["gen_ai.operation.name"],
      provider: attempt.attributes["gen_ai.provider.name"],
      model: attempt.attributes["gen_ai.request.model"],
      responseModel: attempt.attributes["gen_ai.response.model"],
      stream: attempt.attributes["gen_ai.request.stream"],
      temperature: attempt.attributes["gen_ai.request.temperature"],
      input: attempt.attributes["gen_ai.usage.input_tokens"],
      output: attempt.attributes["gen_ai.usage.output_tokens"],
      reasons: attempt.attributes["gen_ai.response.finish_reasons"],
      address: attempt.attributes["server.address"],
      port: attempt.attributes["server.port"],
    },
    {
      operation: "chat",
      provider: "chutes",
      model: "zai-org/GLM-5.1-TEE",
      responseModel: "zai-org/GLM-5.1-TEE",
      stream: false,
      temperature: 0.2,
      input: 5,
      output: 3,
      reasons: ["stop"],
      address: origin.hostname,
      port: Number(origin.port),
    },
  );
  for (const span of [request, attempt]) {
    assert.equal(span.attributes["gen_ai.input.messages"], undefined);
    assert.equal(span.attributes["gen_ai.output.messages"], undefined);
    assert.equal(JSON.stringify(span).includes(PROMPT), false, "no prompt text anywhere in the span");
  }
});

test("an incoming W3C traceparent is the request span's parent", async () => {
  const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
  const parentId = "00f067aa0ba902b7";
  await ask("req_trace_parent", { traceparent: `00-${traceId}-${parentId}-01` });
  const { request, attempts } = await spansOf("req_trace_parent");
  assert.equal(request.traceId, traceId);
  assert.equal(request.parentSpanId, parentId);
  assert.equal(attempts[0]?.traceId, traceId);
});

test("a stream's attempt span ends with the stream, carrying its usage", async () => {
  await ask("req_trace_stream", {}, true);
  const { attempts } = await spansOf("req_trace_stream");
  assert.equal(attempts[0]?.attributes["gen_ai.request.stream"], true);
  assert.equal(attempts[0]?.attributes["gen_ai.usage.output_tokens"], 3);
});

test("with gateway.telemetry.captureContent, the prompt and the answer are on the attempt span", async () => {
  await writeConfig(state, config(true));
  // The config reloads without a restart; wait for it through the spans themselves.
  let attempt: ReceivedSpan | undefined;
  for (let i = 0; !attempt?.attributes["gen_ai.input.messages"]; i++) {
    await ask(`req_trace_content_${i}`);
    attempt = (await spansOf(`req_trace_content_${i}`)).attempts[0];
    if (i > 50) assert.fail("content never captured");
  }
  const input = JSON.parse(attempt.attributes["gen_ai.input.messages"] as string);
  assert.deepEqual(input, [{ role: "user", parts: [{ type: "text", content: PROMPT }] }]);
  const output = JSON.parse(attempt.attributes["gen_ai.output.messages"] as string);
  assert.equal(output[0].role, "assistant");
  assert.equal(output[0].finish_reason, "stop");
  assert.match(output[0].parts[0].content, /Hello from Chutes/);
});
