import assert from "node:assert/strict";
import type OpenAI from "openai";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeReply, type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { type RunningGateway, requestLogs, startGateway } from "./helpers/gateway.js";
import { after, before, beforeEach, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

const QWEN = "Qwen/Qwen3-32B-TEE";
const GLM = "zai-org/GLM-5.1-TEE";
const BIG = "Qwen/Qwen3.5-397B-A17B-TEE";
const GEMMA = "unsloth/gemma-3-12b-it";
const FIRST_BYTE_MS = 400;

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
let client: OpenAI;
/** Each upstream call by model, with the fake's own arrival time. */
let arrivals: Array<{ model: string; at: number }>;
let script: Map<string, FakeReply[]>;

const agent = (id: string, primary: string) => ({ id, model: { primary: `chutes/${primary}`, fallbacks: [`chutes/${QWEN}`] } });
const callsTo = (model: string) => arrivals.filter((arrival) => arrival.model === model);

before(async () => {
  chutes = await startFakeChutes();
  state = await createTestState({ CHUTES_API_KEY: "cpk_routing_policy_00000000000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: {
      defaults: { model: { primary: `chutes/${QWEN}` } },
      list: [{ id: "main", default: true }, agent("retry", GLM), agent("hang", BIG), agent("cool", GEMMA)],
    },
    gateway: {
      http: { upstreamTimeoutMs: 60_000 },
      routing: {
        retries: 2,
        retryBaseDelayMs: 10,
        retryMaxDelayMs: 5_000,
        firstByteTimeoutMs: FIRST_BYTE_MS,
        cooldownFailures: 2,
        cooldownSeconds: 600,
      },
    },
  });
  gateway = await startGateway(state);
  client = gateway.client();
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});
beforeEach(() => {
  arrivals = [];
  script = new Map();
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { model: string; stream?: boolean };
    arrivals.push({ model: body.model, at: Date.now() });
    const scripted = script.get(body.model)?.shift();
    if (scripted) return scripted;
    return body.stream
      ? { events: wordStream(["from", ` ${body.model}`], body.model) }
      : { body: completion(`from ${body.model}`, body.model) };
  });
});

const ask = (model: string, requestId: string) =>
  client.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] }, { headers: { "x-request-id": requestId } });

const decisions = (requestId: string) =>
  gateway
    .stdout()
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line))
    .filter((entry) => entry.requestId === requestId && typeof entry.decision === "string");

test("a 429 with Retry-After: 1 is retried on the same model no sooner than the upstream asked, then answered by it", async () => {
  script.set(GLM, [{ status: 429, headers: { "retry-after": "1" }, body: { error: { message: "slow down", type: "rate_limit" } } }]);
  const answer = await ask("openclaw:retry", "req_retry_after");
  assert.equal(answer.choices[0]?.message.content, `from ${GLM}`, "the retry, not the fallback, answered");
  const [first, second] = callsTo(GLM);
  assert.ok(first && second, "two attempts on the primary");
  assert.ok(second.at - first.at >= 1000, `the retry came ${second.at - first.at} ms after the 429 (Retry-After: 1)`);
  assert.equal(callsTo(QWEN).length, 0);
  const logged = await waitUntil(() => decisions("req_retry_after").find((entry) => entry.decision === "retry"));
  assert.equal(logged.model, `chutes/${GLM}`);
  assert.ok(logged.delayMs >= 1000);
});

test("a hung primary hands over to the fallback after the first-byte budget, not the upstream timeout", async () => {
  script.set(BIG, [{ hang: true }]);
  const stream = await client.chat.completions.create(
    { model: "openclaw:hang", messages: [{ role: "user", content: "hi" }], stream: true },
    { headers: { "x-request-id": "req_hung" } },
  );
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  assert.equal(text, `from ${QWEN}`);
  const [hung] = callsTo(BIG);
  const [fallback] = callsTo(QWEN);
  assert.ok(hung && fallback);
  assert.equal(callsTo(BIG).length, 1, "a hang is not retried on the same model");
  // The gateway's budget starts when it sends, before the fake upstream stamps the arrival, so the gap
  // seen here can fall short of the budget by the request's transit time (399 ms was seen under CI load).
  // Half the budget still tells "waited for the budget" from "handed over at once"; the log below names it.
  const gap = fallback.at - hung.at;
  assert.ok(gap >= FIRST_BYTE_MS / 2 && gap < 60_000, `the fallback was called ${gap} ms after the hung primary`);
  const logged = await waitUntil(() => decisions("req_hung").find((entry) => entry.decision === "first-byte-timeout"));
  assert.equal(logged.timeoutMs, FIRST_BYTE_MS);
});

test("a model failing on repeated requests is put in cooldown and skipped by the next ones", async () => {
  const unavailable = { status: 503, body: { detail: "no instances available" } };
  script.set(
    GEMMA,
    Array.from({ length: 20 }, () => unavailable),
  );
  for (const id of ["req_cool_1", "req_cool_2", "req_cool_3", "req_cool_4"]) {
    const answer = await ask("openclaw:cool", id);
    assert.equal(answer.choices[0]?.message.content, `from ${QWEN}`);
  }
  // Two requests x three attempts (retries: 2) reach the failing model; then it is skipped.
  assert.equal(callsTo(GEMMA).length, 6);
  assert.equal(callsTo(QWEN).length, 4);
  await waitUntil(() => decisions("req_cool_2").find((entry) => entry.decision === "cooldown"));
  const skipped = await waitUntil(() => decisions("req_cool_3").find((entry) => entry.decision === "cooldown-skip"));
  assert.equal(skipped.model, `chutes/${GEMMA}`);
  assert.ok(requestLogs(gateway).length > 0);
});
