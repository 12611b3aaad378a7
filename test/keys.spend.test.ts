import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes, startFakeUpstream, wordStream } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { createLiveKey, refusal } from "./helpers/keys.js";
import { after, before, beforeEach, test } from "./helpers/test.js";
import { eventually } from "./helpers/wait.js";

const QWEN = "chutes/Qwen/Qwen3-32B-TEE";
/** The catalog's prices for QWEN (test/fixtures/chutes-models.json), USD per 1M tokens. */
const PRICE = { input: 0.104, output: 0.416, cacheRead: 0.052 };
const USAGE = { prompt_tokens: 5000, completion_tokens: 1000, total_tokens: 6000, prompt_tokens_details: { cached_tokens: 2000 } };
const COST = (3000 * PRICE.input + 2000 * PRICE.cacheRead + 1000 * PRICE.output) / 1_000_000;

let chutes: FakeUpstream;
let embed: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

const createKey = async (name: string, ...flags: string[]) => (await createLiveKey(state, gateway.url, name, ...flags)).secret;

/** A stream answered with `usage` at its end, as a real upstream asked for include_usage does. */
function streamWith(usage: object) {
  const events = wordStream(["Hello", " there"]);
  events[events.length - 1] = { ...(events.at(-1) as object), usage };
  return events;
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of stream);
}

const upstreamPosts = () => chutes.requests.filter((r) => r.method === "POST").length + embed.requests.length;

before(async () => {
  chutes = await startFakeChutes();
  embed = await startFakeUpstream();
  state = await createTestState({ CHUTES_API_KEY: "cpk_keys_spend_000000000000000" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url, embeddingsBaseUrl: embed.url } } },
    agents: { defaults: { model: { primary: QWEN } } },
  });
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await embed.close();
  await state.cleanup();
});
beforeEach(() => {
  chutes.requests.length = 0;
  embed.requests.length = 0;
  chutes.route("POST /chat/completions", { events: streamWith(USAGE) });
  embed.route("POST /embeddings", {
    body: {
      object: "list",
      data: [{ object: "embedding", index: 0, embedding: [0.1] }],
      model: "x",
      usage: { prompt_tokens: 8, total_tokens: 8 },
    },
  });
});

test("a streamed request's spend is recorded from the usage at its end: usage --by key equals the upstream's usage x the catalog prices", async () => {
  const secret = await createKey("streamer");
  const client = gateway.client({ apiKey: secret });
  for (let i = 0; i < 2; i++)
    await drain(await client.chat.completions.create({ model: QWEN, messages: [{ role: "user", content: "hi" }], stream: true }));
  const asked = chutes.requests.at(-1)?.body as { stream_options?: { include_usage?: boolean } };
  assert.equal(asked.stream_options?.include_usage, true, "the upstream is asked for usage although the client did not ask");
  const row = await eventually(
    async () => {
      const result = await runCli(state, ["usage", "--by", "key", "--json"]);
      return JSON.parse(result.stdout).rows.find((r: { name: string | null }) => r.name === "streamer");
    },
    (found) => found?.requests === 2,
  );
  assert.equal(row.promptTokens, 10_000);
  assert.equal(row.cachedTokens, 4000);
  assert.ok(COST > 0);
  // To the cent, and tighter: the cached part is priced at its own rate.
  assert.ok(Math.abs(row.cost - 2 * COST) < 1e-12, `${row.cost} != ${2 * COST}`);
});

test("a budget of $0.001 stops the key after the request that crossed it, on chat, responses and embeddings, before any upstream call", async () => {
  const client = gateway.client({ apiKey: await createKey("budgeted", "--budget", "0.001") });
  const ask = () => client.chat.completions.create({ model: QWEN, messages: [{ role: "user", content: "hi" }], stream: true });
  await drain(await ask()); // $0.000832: under
  await drain(await ask()); // $0.001664: this one crosses it, and is served
  const before = upstreamPosts();
  for (const call of [
    () => ask(),
    () => client.chat.completions.create({ model: QWEN, messages: [{ role: "user", content: "hi" }] }),
    () => client.responses.create({ model: QWEN, input: "hi" }),
    () => client.embeddings.create({ model: "chutes/Qwen/Qwen3-Embedding-8B", input: "hi" }),
  ]) {
    const error = await refusal(call());
    assert.equal(error.status, 429);
    assert.equal(error.type, "insufficient_quota");
    assert.equal(error.code, "insufficient_quota");
    assert.equal(error.headers?.get("x-should-retry"), "false");
  }
  assert.equal(upstreamPosts(), before, "refused before the call: the upstream saw nothing");
});

test("TPM reserves an estimate and settles on the real usage at the end of a stream", async () => {
  chutes.route("POST /chat/completions", { events: streamWith({ prompt_tokens: 40, completion_tokens: 20, total_tokens: 60 }) });
  const client = gateway.client({ apiKey: await createKey("tpm", "--tpm", "6000") });
  const ask = () =>
    client.chat.completions
      .create({ model: QWEN, messages: [{ role: "user", content: "hi" }], stream: true, max_tokens: 2000 })
      .withResponse();
  const first = await ask();
  const remainingFirst = Number(first.response.headers.get("x-ratelimit-remaining-tokens"));
  const estimate = 6000 - remainingFirst;
  assert.ok(estimate >= 2000, "the reservation counts the output the request allows");
  await drain(first.data);
  const second = await ask();
  const remainingSecond = Number(second.response.headers.get("x-ratelimit-remaining-tokens"));
  await drain(second.data);
  // Settled: the first request costs its 60 real tokens, not its estimate (without the settle: ~2 estimates gone).
  assert.ok(remainingSecond >= 6000 - 60 - estimate - 1, `remaining ${remainingSecond} after a 60-token request (estimate ${estimate})`);
});

test("--max-parallel 2: a third request in flight gets 429; the slots come back when the streams end", async () => {
  const releases: Array<() => void> = [];
  chutes.route("POST /chat/completions", {
    respond: async (response: ServerResponse) => {
      const events = streamWith({ prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 });
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(`data: ${JSON.stringify(events[0])}\n\n`);
      await new Promise<void>((resolve) => releases.push(resolve));
      for (const event of events.slice(1)) response.write(`data: ${JSON.stringify(event)}\n\n`);
      response.end("data: [DONE]\n\n");
    },
  });
  const client = gateway.client({ apiKey: await createKey("parallel", "--max-parallel", "2") });
  const ask = () => client.chat.completions.create({ model: QWEN, messages: [{ role: "user", content: "hi" }], stream: true });
  const open = [await ask(), await ask()];
  const error = await refusal(ask());
  assert.equal(error.status, 429);
  assert.match(error.message, /in progress/);
  assert.ok(Number(error.headers?.get("retry-after")) >= 1);
  for (const release of releases.splice(0)) release();
  for (const stream of open) await drain(stream);
  chutes.route("POST /chat/completions", { events: streamWith(USAGE) });
  await drain(await ask());
});

test("revoked and expired keys get 401 without a restart", async () => {
  const secret = await createKey("to-revoke");
  const client = gateway.client({ apiKey: secret });
  await client.models.list();
  assert.equal((await runCli(state, ["keys", "revoke", "to-revoke"])).code, 0);
  const revoked = await eventually(
    () => refusal(client.models.list()).catch(() => undefined),
    (error) => error?.status === 401,
  );
  assert.match(revoked?.message ?? "", /revoked/);

  const created = await runCli(state, ["keys", "create", "--name", "short", "--expires", "2s"]);
  assert.equal(created.code, 0, created.stderr);
  const short = gateway.client({ apiKey: created.stdout.trim() });
  // "invalid API key" until the gateway has loaded it, then served, then "expired" once its time is past.
  const expired = await eventually(
    () => refusal(short.models.list()).catch(() => undefined),
    (error) => error?.status === 401 && /expired/.test(error.message),
  );
  assert.match(expired?.message ?? "", /expired/);
  assert.equal(expired?.code, "invalid_api_key");
});

test("a client that disconnects mid-stream frees its key's parallel slot", async () => {
  chutes.route("POST /chat/completions", {
    respond: (response: ServerResponse) => {
      response.writeHead(200, { "content-type": "text/event-stream" });
      response.write(`data: ${JSON.stringify(wordStream(["Hello"])[0])}\n\n`);
      // …and nothing more: only the client leaving ends this request.
    },
  });
  const client = gateway.client({ apiKey: await createKey("leaver", "--max-parallel", "1") });
  const ask = () => client.chat.completions.create({ model: QWEN, messages: [{ role: "user", content: "hi" }], stream: true });
  const held = await ask();
  assert.equal((await refusal(ask())).status, 429);
  held.controller.abort();
  chutes.route("POST /chat/completions", { events: streamWith(USAGE) });
  // The slot comes back once the gateway has seen the disconnect.
  const outcome = await eventually(
    () => ask().then(drain, () => "refused"),
    (last) => last !== "refused",
  );
  assert.notEqual(outcome, "refused");
});
