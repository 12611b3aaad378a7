import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";

const MODEL = "chutes/zai-org/GLM-5.1-TEE";
/** The fake upstream holds every chat answer at least this long: upstream time the overhead must not count. */
const UPSTREAM_DELAY_MS = 500;

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

before(async () => {
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { stream?: boolean; model: string };
    return body.stream
      ? { delayMs: UPSTREAM_DELAY_MS, events: wordStream(["a", "b"], body.model) }
      : {
          delayMs: UPSTREAM_DELAY_MS,
          body: {
            id: "c",
            object: "chat.completion",
            created: 1,
            model: body.model,
            choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
            usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
          },
        };
  });
  state = await createTestState({ CHUTES_API_KEY: "cpk_overhead_test_000000000000" });
  await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url } } }, agents: { defaults: { model: MODEL } } });
  gateway = await startGateway(state);
  // Warm up (route handlers, catalog, the client's connection), so that the client's own time is
  // small beside the upstream's in the measured requests.
  await chat({ model: MODEL, messages: [{ role: "user", content: "warm up" }] });
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

/** The response, its body read to the end, and the client's own measure of the whole exchange. */
async function timed(path: string, init: RequestInit = {}) {
  const started = performance.now();
  const response = await fetch(`${gateway.url}${path}`, init);
  const body = await response.text();
  return { response, body, totalMs: performance.now() - started, overhead: response.headers.get("x-openclaw-overhead-ms") };
}

const chat = (body: unknown, token = GATEWAY_TOKEN) =>
  timed("/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });

function assertOverhead(result: Awaited<ReturnType<typeof timed>>, status: number): number {
  assert.equal(result.response.status, status, result.body);
  assert.match(result.overhead ?? "", /^\d+(\.\d+)?$/, `x-openclaw-overhead-ms on a ${status}`);
  const overhead = Number(result.overhead);
  assert.ok(overhead >= 0 && overhead <= result.totalMs, `0 <= ${overhead} <= ${result.totalMs}`);
  return overhead;
}

test("a JSON answer's overhead leaves out the upstream's time", async () => {
  const result = await chat({ model: MODEL, messages: [{ role: "user", content: "hi" }] });
  const overhead = assertOverhead(result, 200);
  // The upstream held the answer UPSTREAM_DELAY_MS: that much of the total is not overhead.
  assert.ok(overhead <= result.totalMs - UPSTREAM_DELAY_MS, `${overhead} <= ${result.totalMs} - ${UPSTREAM_DELAY_MS}`);
});

test("a stream's overhead header counts up to its head, without the upstream's time to first chunk", async () => {
  const result = await chat({ model: MODEL, messages: [{ role: "user", content: "hi" }], stream: true });
  const overhead = assertOverhead(result, 200);
  assert.match(result.body, /data: \[DONE\]/);
  assert.ok(overhead <= result.totalMs - UPSTREAM_DELAY_MS, `${overhead} <= ${result.totalMs} - ${UPSTREAM_DELAY_MS}`);
});

test("4xx answers carry the overhead too: bad body, wrong token, unknown path, wrong method", async () => {
  assertOverhead(await chat({ model: MODEL }), 400);
  assertOverhead(await chat({ model: MODEL, messages: [{ role: "user", content: "hi" }] }, "wrong-token"), 401);
  assertOverhead(await timed("/v1/nothing-here", { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } }), 404);
  assertOverhead(await timed("/v1/chat/completions", { method: "GET", headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } }), 405);
  assertOverhead(await timed("/healthz"), 200);
});
