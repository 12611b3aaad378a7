import assert from "node:assert/strict";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { createLiveKey, refusal } from "./helpers/keys.js";
import { parsePrometheus, type Sample, select, total } from "./helpers/prometheus-text.js";
import { after, before, test } from "./helpers/test.js";
import { eventually } from "./helpers/wait.js";

const GLM = "chutes/zai-org/GLM-5.1-TEE";
const QWEN = "chutes/Qwen/Qwen3-32B-TEE";
const SCRAPE_TOKEN = "scrape-token-for-prometheus-0123";
const ROUTE = "/v1/chat/completions";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

const config = (metrics: Record<string, unknown>) => ({
  models: { providers: { chutes: { baseUrl: chutes.url } } },
  agents: {
    defaults: { model: { primary: GLM } },
    list: [
      { id: "main", default: true },
      { id: "flaky", model: { primary: QWEN, fallbacks: [GLM] } },
    ],
  },
  gateway: { routing: { retries: 0 }, metrics },
});

before(async () => {
  // The fixture's catalog (with prices): label values and spend come from it.
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { stream?: boolean; model: string };
    // The fallback's primary is down: the agent "flaky" falls back to GLM.
    if (body.model === "Qwen/Qwen3-32B-TEE") return { status: 503, body: { error: { message: "overloaded" } } };
    // "hold": a slower stream, open long enough to be seen open.
    if (body.stream && (body as { user?: string }).user === "hold")
      return { events: wordStream(["a", "b", "c", "d"], body.model), eventDelayMs: 100 };
    if (body.stream) return { events: wordStream(["a", "b", "c"], body.model) };
    return {
      body: {
        id: "chatcmpl-1",
        object: "chat.completion",
        created: 1,
        model: body.model,
        choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15, prompt_tokens_details: { cached_tokens: 6 } },
      },
    };
  });
  state = await createTestState({ CHUTES_API_KEY: "cpk_metrics_test_0000000000000", SCRAPE_TOKEN });
  await writeConfig(state, config({ token: "${SCRAPE_TOKEN}" }));
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

const scrape = (token: string | undefined) =>
  fetch(`${gateway.url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});

async function samples(): Promise<Sample[]> {
  const response = await scrape(GATEWAY_TOKEN);
  assert.equal(response.status, 200);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain/);
  return parsePrometheus(await response.text());
}

/** Every histogram series: buckets never decrease, the +Inf bucket is the count. */
function assertHistogramsConsistent(all: Sample[], name: string): void {
  for (const count of select(all, `${name}_count`)) {
    const buckets = select(all, `${name}_bucket`, count.labels).filter((bucket) =>
      Object.entries(count.labels).every(([key, value]) => bucket.labels[key] === value),
    );
    const ordered = buckets
      .map((bucket) => ({ le: bucket.labels.le === "+Inf" ? Number.POSITIVE_INFINITY : Number(bucket.labels.le), value: bucket.value }))
      .sort((a, b) => a.le - b.le);
    assert.ok(ordered.length > 1, `${name} has buckets`);
    for (let i = 1; i < ordered.length; i++) assert.ok(ordered[i]!.value >= ordered[i - 1]!.value, `${name} buckets are cumulative`);
    assert.equal(ordered.at(-1)?.le, Number.POSITIVE_INFINITY);
    assert.equal(ordered.at(-1)?.value, count.value, `${name}: +Inf bucket = count`);
  }
}

test("after known traffic, /metrics counts requests by route/model/status, sums tokens and cost, and its histograms are consistent", async () => {
  const client = gateway.client();
  for (let i = 0; i < 3; i++) await client.chat.completions.create({ model: GLM, messages: [{ role: "user", content: "hi" }] });
  const stream = await client.chat.completions.create({ model: GLM, messages: [{ role: "user", content: "hi" }], stream: true });
  for await (const _chunk of stream);
  // One fallback: the agent's primary answers 503.
  await client.chat.completions.create({ model: "openclaw:flaky", messages: [{ role: "user", content: "hi" }] });
  // One 429 from a key's rpm.
  const key = await createLiveKey(state, gateway.url, "limited", "--rpm", "1");
  const limited = gateway.client({ apiKey: key.secret });
  await limited.chat.completions.create({ model: GLM, messages: [{ role: "user", content: "hi" }] });
  assert.equal((await refusal(limited.chat.completions.create({ model: GLM, messages: [{ role: "user", content: "hi" }] }))).status, 429);

  const ok = { route: ROUTE, model: GLM, provider: "chutes", status: "200", outcome: "ok" };
  const all = await eventually(samples, (now) => total(now, "openclaw_http_request_duration_seconds_count", ok) === 6);
  // 3 plain + the fallback's + the key's first = 5 JSON answers; 1 stream.
  assert.equal(total(all, "openclaw_http_request_duration_seconds_count", { ...ok, stream: "false" }), 5);
  assert.equal(total(all, "openclaw_http_request_duration_seconds_count", { ...ok, stream: "true" }), 1);
  assert.equal(total(all, "openclaw_http_request_duration_seconds_count", { route: ROUTE, status: "429", outcome: "error" }), 1);
  assert.equal(total(all, "openclaw_key_rejections_total", { limit: "requests" }), 1);
  assert.equal(total(all, "openclaw_routing_decisions_total", { decision: "fallback", provider: "chutes" }), 1);

  // Tokens: five answers of 11 in / 4 out / 6 cached, and the stream's 5 in / 3 out (wordStream's usage).
  assert.equal(total(all, "openclaw_tokens_total", { model: GLM, type: "input" }), 5 * 11 + 5);
  assert.equal(total(all, "openclaw_tokens_total", { model: GLM, type: "output" }), 5 * 4 + 3);
  assert.equal(total(all, "openclaw_tokens_total", { model: GLM, type: "cached" }), 5 * 6);
  assert.equal(total(all, "gen_ai_client_token_usage_sum", { gen_ai_request_model: GLM, gen_ai_token_type: "input" }), 60);
  assert.equal(total(all, "gen_ai_client_token_usage_count", { gen_ai_request_model: GLM, gen_ai_token_type: "output" }), 6);
  assert.ok(total(all, "openclaw_cost_usd_total", { model: GLM }) > 0, "spend from the catalog's prices");

  // Upstream attempts: the failed primary (503) is an operation with its error type; the stream has a TTFT.
  assert.equal(total(all, "gen_ai_client_operation_duration_seconds_count", { gen_ai_request_model: QWEN, error_type: "503" }), 1);
  assert.equal(total(all, "gen_ai_client_operation_duration_seconds_count", { gen_ai_request_model: GLM, error_type: "" }), 6);
  assert.equal(total(all, "gen_ai_server_time_to_first_token_seconds_count", { gen_ai_request_model: GLM }), 1);
  assert.equal(total(all, "openclaw_gateway_overhead_seconds_count", { route: ROUTE }), 7);
  assert.equal(total(all, "openclaw_open_streams"), 0);
  for (const name of [
    "openclaw_http_request_duration_seconds",
    "openclaw_gateway_overhead_seconds",
    "gen_ai_client_operation_duration_seconds",
    "gen_ai_server_time_to_first_token_seconds",
    "gen_ai_client_token_usage",
  ])
    assertHistogramsConsistent(all, name);
});

test("a stream is counted open while it relays, and no longer once it ended", async () => {
  const stream = await gateway
    .client()
    .chat.completions.create({ model: GLM, messages: [{ role: "user", content: "hi" }], stream: true, user: "hold" });
  const chunks = stream[Symbol.asyncIterator]();
  assert.equal((await chunks.next()).done, false);
  assert.equal(total(await samples(), "openclaw_open_streams"), 1);
  while (!(await chunks.next()).done);
  const ended = await eventually(samples, (now) => total(now, "openclaw_open_streams") === 0);
  assert.equal(total(ended, "openclaw_open_streams"), 0);
});

test("a model the catalog does not know is labelled other, so clients cannot mint label values", async () => {
  // The fake upstream answers any model; the catalog does not list this one.
  await gateway.client().chat.completions.create({ model: "chutes/made-up/model-5678", messages: [{ role: "user", content: "hi" }] });
  const all = await eventually(samples, (now) => total(now, "openclaw_http_request_duration_seconds_count", { model: "other" }) >= 1);
  assert.ok(total(all, "openclaw_http_request_duration_seconds_count", { model: "other" }) >= 1);
  assert.equal(
    all.some((sample) => Object.values(sample.labels).some((value) => value.includes("made-up"))),
    false,
  );
});

test("/metrics is refused without a token (401), with an API key (403), and accepted with gateway.metrics.token", async () => {
  assert.equal((await scrape(undefined)).status, 401);
  assert.equal((await scrape("not-the-token")).status, 401);
  const key = await createLiveKey(state, gateway.url, "scraper-wannabe");
  const withKey = await scrape(key.secret);
  assert.equal(withKey.status, 403);
  assert.equal(((await withKey.json()) as { error: { code: string } }).error.code, "operator_only");
  const withScrapeToken = await scrape(SCRAPE_TOKEN);
  assert.equal(withScrapeToken.status, 200);
  assert.match(await withScrapeToken.text(), /# TYPE openclaw_http_request_duration_seconds histogram/);
  // The scrape token opens /metrics only.
  assert.equal((await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${SCRAPE_TOKEN}` } })).status, 401);
});

test("gateway.metrics.enabled: false turns /metrics off (404), on a config reload", async () => {
  await writeConfig(state, config({ enabled: false, token: "${SCRAPE_TOKEN}" }));
  const response = await eventually(
    () => scrape(GATEWAY_TOKEN),
    (answer) => answer.status === 404,
  );
  assert.equal(response.status, 404);
  assert.match(((await response.json()) as { error: { message: string } }).error.message, /gateway\.metrics\.enabled/);
});
