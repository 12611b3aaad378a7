import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import OpenAI from "openai";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, type RecordedRequest, startFakeChutes } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";

// An upstream that quotes our credentials back (as some do in 401/400 bodies) must not make the
// gateway relay, log or store them.

const KEY = "cpk_scrub_test_secret_0123456789abcdef";
const HEADER_SECRET = "custom-header-secret-9876543210";
/** A credential-shaped string that is not ours: removed from error texts too. */
const OTHER_KEY = "sk-someone-elses-key-abcdefghijkl";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
let client: OpenAI;

/** What a careless upstream says: every credential it received. */
const echo = (request: RecordedRequest) =>
  `rejected ${request.headers.authorization} with X-Api-Key ${request.headers["x-api-key"]} (also saw ${OTHER_KEY})`;

before(async () => {
  chutes = await startFakeChutes();
  state = await createTestState({ CHUTES_API_KEY: KEY });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url, embeddingsBaseUrl: chutes.url, headers: { "X-Api-Key": HEADER_SECRET } } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
  });
  gateway = await startGateway(state);
  client = gateway.client();
});
after(async () => {
  await gateway.stop();
  await chutes.close();
  await state.cleanup();
});

function assertClean(text: string, where: string): void {
  assert.ok(!text.includes(KEY), `${where} leaks the API key: ${text}`);
  assert.ok(!text.includes(HEADER_SECRET), `${where} leaks the credential header: ${text}`);
}

const chat = (sessionKey: string) =>
  client.chat.completions.create(
    { model: "openclaw", messages: [{ role: "user", content: "hi" }] },
    { headers: { "x-openclaw-session-key": sessionKey } },
  );

const errorBodies: Array<[string, number, (request: RecordedRequest) => unknown]> = [
  ["401 OpenAI-shaped", 401, (request) => ({ error: { message: echo(request), type: "invalid_request_error", code: "invalid_api_key" } })],
  ["400 FastAPI detail", 400, (request) => ({ detail: [{ loc: ["header"], msg: echo(request), type: "value_error" }] })],
  ["429 bare error string", 429, (request) => ({ error: echo(request) })],
  ["500 HTML page", 500, (request) => `<html><head><title>${echo(request)}</title></head><body>${echo(request)}</body></html>`],
];

for (const [name, status, body] of errorBodies) {
  test(`a ${name} body echoing the credentials reaches the client scrubbed`, async () => {
    chutes.route("POST /chat/completions", (request) => ({ status, body: body(request) }));
    await assert.rejects(chat(`scrub-${status}`), (error) => {
      assert.ok(error instanceof OpenAI.APIError);
      assertClean(JSON.stringify(error.error) + error.message, "the error");
      assert.ok(!error.message.includes(OTHER_KEY), "a credential-shaped string stays in the error");
      assert.match(error.message, /\[redacted\]/);
      return true;
    });
  });
}

test("a mid-stream error event and a content chunk echoing the key are scrubbed", async () => {
  const base = { id: "c", object: "chat.completion.chunk", created: 1, model: "m" };
  chutes.route("POST /chat/completions", (request) => ({
    events: [
      {
        ...base,
        choices: [{ index: 0, delta: { role: "assistant", content: `you sent ${request.headers.authorization}` }, finish_reason: null }],
      },
      { error: { message: echo(request), code: 500 } },
    ],
  }));
  let text = "";
  await assert.rejects(
    (async () => {
      const stream = await client.chat.completions.create(
        { model: "openclaw", messages: [{ role: "user", content: "hi" }], stream: true },
        { headers: { "x-openclaw-session-key": "scrub-stream" } },
      );
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })(),
    (error: Error) => {
      assertClean(error.message, "the mid-stream error");
      assert.match(error.message, /failed mid-stream/);
      return true;
    },
  );
  assert.equal(text, "you sent Bearer [redacted]");
});

test("a non-stream answer echoing the key is relayed scrubbed", async () => {
  chutes.route("POST /chat/completions", (request) => ({
    body: {
      id: "c",
      object: "chat.completion",
      created: 1,
      model: "m",
      choices: [{ index: 0, message: { role: "assistant", content: echo(request) }, finish_reason: "stop" }],
    },
  }));
  const answer = await chat("scrub-json");
  assertClean(JSON.stringify(answer), "the answer");
});

test("/v1/responses: an echoed key is scrubbed from the error and from response.failed", async () => {
  chutes.route("POST /chat/completions", (request) => ({ status: 401, body: { error: { message: echo(request) } } }));
  await assert.rejects(client.responses.create({ model: "openclaw", input: "hi" }), (error: Error) => {
    assertClean(error.message, "the responses error");
    return true;
  });
  const base = { id: "c", object: "chat.completion.chunk", created: 1, model: "m" };
  chutes.route("POST /chat/completions", (request) => ({
    events: [
      { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "Hi" }, finish_reason: null }] },
      { error: { message: echo(request), code: 500 } },
    ],
  }));
  const stream = await client.responses.create({ model: "openclaw", input: "hi", stream: true });
  const events: string[] = [];
  for await (const event of stream) events.push(JSON.stringify(event));
  assert.match(events.at(-1) ?? "", /response\.failed/);
  assertClean(events.join("\n"), "the response events");
});

test("/v1/embeddings: an echoed key is scrubbed from errors and answers", async () => {
  chutes.route("POST /embeddings", (request) => ({ status: 400, body: { error: { message: echo(request) } } }));
  await assert.rejects(client.embeddings.create({ model: "chutes/Qwen/Qwen3-Embedding-8B", input: "hi" }), (error: Error) => {
    assertClean(error.message, "the embeddings error");
    return true;
  });
  chutes.route("POST /embeddings", (request) => ({
    body: { object: "list", data: [{ object: "embedding", index: 0, embedding: [0.5] }], model: echo(request), usage: {} },
  }));
  const answer = await fetch(`${gateway.url}/v1/embeddings`, {
    method: "POST",
    headers: { authorization: `Bearer ${client.apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "chutes/Qwen/Qwen3-Embedding-8B", input: "hi", encoding_format: "float" }),
  });
  assertClean(await answer.text(), "the embeddings answer");
});

test("the CLI's chat error line does not carry the echoed key", async () => {
  chutes.route("POST /chat/completions", (request) => ({ status: 401, body: { error: { message: echo(request) } } }));
  const result = await runCli(state, ["chat", "hi"]);
  assert.notEqual(result.code, 0);
  assert.match(result.stderr, /\[redacted\]/);
  assertClean(result.stdout + result.stderr, "the CLI");
});

test("nothing echoed reached the gateway's log or its database files", async () => {
  await gateway.stop();
  assertClean(gateway.stdout() + gateway.stderr(), "the gateway log");
  assert.match(gateway.stdout(), /redacted/, "the log did record the scrubbed errors");
  const files = (await readdir(state.stateDir)).filter((name) => name.startsWith("openclaw.db"));
  assert.ok(files.length > 0, "the sessions database exists");
  for (const name of files) {
    const bytes = await readFile(path.join(state.stateDir, name));
    assert.ok(!bytes.includes(KEY), `${name} holds the API key`);
    assert.ok(!bytes.includes(HEADER_SECRET), `${name} holds the credential header`);
    assert.ok(bytes.includes("[redacted]") || name !== "openclaw.db", `${name} has the scrubbed turns`);
  }
});
