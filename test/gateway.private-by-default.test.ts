import assert from "node:assert/strict";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes, startFakeUpstream, wordStream } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { databaseFilesContain, ledgerRow, readTable } from "./helpers/ledger.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

// Default config: gateway.sessions.content is "keyed".
let chutes: FakeUpstream;
let embed: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

const lastUserText = (body: { messages: Array<{ role: string; content: string }> }) =>
  body.messages.filter((message) => message.role === "user").at(-1)?.content ?? "";

before(async () => {
  chutes = await startFakeChutes();
  embed = await startFakeUpstream();
  // The answer repeats the prompt, so that a marker in the prompt is in both sides of the exchange.
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { stream?: boolean; model: string; messages: Array<{ role: string; content: string }> };
    if (lastUserText(body) === "please fail") return { status: 500, body: { error: { message: "upstream broke" } } };
    const said = `echo ${lastUserText(body)}`;
    if (body.stream) return { events: wordStream([said, " done"], body.model) };
    const answer = completion(said, body.model);
    return { body: { ...answer, usage: { ...answer.usage, prompt_tokens_details: { cached_tokens: 2 } } } };
  });
  embed.route("POST /embeddings", () => ({
    body: {
      object: "list",
      data: [{ object: "embedding", index: 0, embedding: [0.1, 0.2] }],
      usage: { prompt_tokens: 7, total_tokens: 7 },
    },
  }));
  state = await createTestState({ CHUTES_API_KEY: "cpk_private_default_key_00000" });
  await writeConfig(state, {
    models: {
      providers: {
        chutes: {
          baseUrl: chutes.url,
          embeddingsBaseUrl: embed.url,
          models: [{ id: "Qwen/Qwen3-32B-TEE", cost: { input: 1, output: 2 } }],
        },
      },
    },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
  });
  gateway = await startGateway(state, ["--enable-endpoints"]);
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await embed.close();
  await state.cleanup();
});

const client = (headers: Record<string, string> = {}) => gateway.client({ headers });
const recorded = (requestId: string) => waitUntil(() => ledgerRow(state.stateDir, requestId), { what: `the ledger row of ${requestId}` });

test("an unnamed chat request leaves its ledger row and no message anywhere in the database files", async () => {
  const marker = "marker-unkeyed-json-5b1d";
  const result = await client({ "x-request-id": "req-private-1" }).chat.completions.create({
    model: "openclaw",
    messages: [{ role: "user", content: marker }],
  });
  assert.equal(result.choices[0]?.message.content, `echo ${marker}`);
  const row = await recorded("req-private-1");
  const { id: _id, at, latency_ms, ...fields } = row;
  assert.ok(at > 0 && latency_ms >= 0);
  assert.deepEqual(fields, {
    request_id: "req-private-1",
    agent_id: "main",
    key_id: null,
    model: "chutes/Qwen/Qwen3-32B-TEE",
    provider: "chutes",
    endpoint: "chat.completions",
    status: "ok",
    error: null,
    prompt_tokens: 5,
    completion_tokens: 3,
    cached_tokens: 2,
    cost: (5 * 1 + 3 * 2) / 1_000_000,
    session_key: null,
    stream: 0,
  });
  assert.equal(databaseFilesContain(state.stateDir, marker), false, "the prompt or the answer was written to disk");
  assert.equal(readTable(state.stateDir, "SELECT key FROM sessions WHERE key LIKE '%:request:%'").length, 0);
});

test("an unnamed stream is recorded as metadata with its usage, and its text is not kept", async () => {
  const marker = "marker-unkeyed-stream-77c2";
  const stream = await client({ "x-request-id": "req-private-stream" }).chat.completions.create({
    model: "openclaw",
    stream: true,
    messages: [{ role: "user", content: marker }],
  });
  for await (const _chunk of stream);
  const row = await recorded("req-private-stream");
  assert.equal(row.stream, 1);
  assert.equal(row.status, "ok");
  assert.equal(row.completion_tokens, 2);
  assert.equal(databaseFilesContain(state.stateDir, marker), false);
});

test("a request naming a session keeps its messages in that session", async () => {
  const marker = "marker-keyed-user-0e94";
  await client({ "x-request-id": "req-keyed-1" }).chat.completions.create({
    model: "openclaw",
    user: "alice",
    messages: [{ role: "user", content: marker }],
  });
  const row = await recorded("req-keyed-1");
  assert.equal(row.session_key, "agent:main:openai-user:alice");
  const turns = readTable<{ input: string; output: string }>(
    state.stateDir,
    "SELECT input, output FROM turns WHERE session_key = ?",
    "agent:main:openai-user:alice",
  );
  assert.equal(turns.length, 1);
  assert.match(turns[0]?.input ?? "", new RegExp(marker));
  assert.match(turns[0]?.output ?? "", new RegExp(`echo ${marker}`));
});

test("/v1/responses with store keeps what continuity needs and no session turn; store: false keeps nothing", async () => {
  const marker = "marker-responses-stored-3a8f";
  const first = await client({ "x-request-id": "req-resp-1" }).responses.create({ model: "openclaw", input: marker });
  const second = await client().responses.create({ model: "openclaw", input: "and again", previous_response_id: first.id });
  assert.equal(second.status, "completed");
  const continued = chutes.requests.at(-1)?.body as { messages: Array<{ content: string }> };
  assert.ok(
    continued.messages.some((message) => message.content === marker),
    "the previous turn did not carry over",
  );
  const fetched = await fetch(`${gateway.url}/v1/responses/${first.id}`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
  assert.equal(fetched.status, 200);
  assert.equal((await recorded("req-resp-1")).endpoint, "responses");
  assert.equal(readTable(state.stateDir, "SELECT id FROM turns WHERE input LIKE ?", `%${marker}%`).length, 0);

  const unstored = "marker-responses-unstored-c41e";
  // Even in a named session: store: false is the client saying "keep nothing".
  await client({ "x-request-id": "req-resp-unstored" }).responses.create({
    model: "openclaw",
    input: unstored,
    store: false,
    user: "bob",
  });
  assert.equal((await recorded("req-resp-unstored")).session_key, "agent:main:openai-user:bob");
  assert.equal(databaseFilesContain(state.stateDir, unstored), false);
});

test("embeddings are in the ledger too", async () => {
  await client({ "x-request-id": "req-embed-1" }).embeddings.create({ model: "chutes/Qwen/Qwen3-Embedding-8B", input: "hello" });
  const row = await recorded("req-embed-1");
  assert.equal(row.endpoint, "embeddings");
  assert.equal(row.model, "chutes/Qwen/Qwen3-Embedding-8B");
  assert.equal(row.prompt_tokens, 7);
  assert.equal(row.status, "ok");
});

test("a failed request is in the ledger as an error; a request id that is not sane is replaced", async () => {
  const refused = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json", "x-request-id": "req-failed-1" },
    body: JSON.stringify({ model: "nowhere/unknown-model", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.ok(refused.status >= 400);
  const row = await recorded("req-failed-1");
  assert.equal(row.status, "error");
  assert.ok(row.error && row.error.length > 0);

  // An upstream failure is recorded against the model it was meant for.
  await assert.rejects(
    client({ "x-request-id": "req-upstream-failed" }).chat.completions.create(
      { model: "openclaw", messages: [{ role: "user", content: "please fail" }] },
      { maxRetries: 0 },
    ),
  );
  const failed = await recorded("req-upstream-failed");
  assert.equal(failed.status, "error");
  assert.equal(failed.model, "chutes/Qwen/Qwen3-32B-TEE");

  const before = readTable(state.stateDir, "SELECT id FROM requests").length;
  await client({ "x-request-id": "not sane; drop table" }).chat.completions.create({
    model: "openclaw",
    messages: [{ role: "user", content: "hi" }],
  });
  const rows = await waitUntil(
    () => {
      const all = readTable<{ request_id: string }>(state.stateDir, "SELECT request_id FROM requests ORDER BY id");
      return all.length > before ? all : undefined;
    },
    { what: "the next ledger row" },
  );
  assert.match(rows.at(-1)?.request_id ?? "", /^req_[0-9a-f]{32}$/);
});
