import assert from "node:assert/strict";
import OpenAI from "openai";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, jsonOf, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";
import { eventually } from "./helpers/wait.js";

let chutes: FakeUpstream;
let state: TestState;
const running: RunningGateway[] = [];

before(async () => {
  chutes = await startFakeChutes();
});
after(() => chutes.close());
beforeEach(async () => {
  state = await createTestState({ CHUTES_API_KEY: "cpk_http_test_key_0000000000" });
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { model: string; stream?: boolean };
    return body.stream ? { events: wordStream(["ok"], body.model) } : { body: completion("ok", body.model) };
  });
});
afterEach(async () => {
  for (const gateway of running.splice(0)) await gateway.stop();
  await state.cleanup();
});

async function start(config: Record<string, unknown> = {}, args?: string[], env?: NodeJS.ProcessEnv) {
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
    ...config,
  });
  const gateway = await startGateway(state, args, env);
  running.push(gateway);
  return gateway;
}

const post = (gateway: RunningGateway, path: string, body: string, headers: Record<string, string> = {}) =>
  fetch(`${gateway.url}${path}`, {
    method: "POST",
    body,
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json", ...headers },
  });

test("endpoints are off by default: 404 naming the key to set", async () => {
  const gateway = await start({}, []);
  const response = await post(
    gateway,
    "/v1/chat/completions",
    JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }),
  );
  assert.equal(response.status, 404);
  const body = await jsonOf(response);
  assert.match(body.error.message, /gateway\.http\.endpoints\.chatCompletions\.enabled/);
  assert.equal(body.error.code, "endpoint_disabled");
  assert.match(gateway.stderr(), /chat\/completions: off/);
});

test("the config key turns the chat endpoint on", async () => {
  const gateway = await start({ gateway: { http: { endpoints: { chatCompletions: { enabled: true } } } } }, []);
  const completion = await gateway
    .client()
    .chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "hi" }], stream: false })
    .catch((error) => error);
  assert.ok(!(completion instanceof OpenAI.NotFoundError));
});

test("malformed JSON is 400, a wrong method 405 with Allow, an unknown path 404 — all OpenAI-shaped", async () => {
  const gateway = await start();
  const malformed = await post(gateway, "/v1/chat/completions", "{not json");
  assert.equal(malformed.status, 400);
  assert.equal((await jsonOf(malformed)).error.type, "invalid_request_error");
  const missing = await post(gateway, "/v1/chat/completions", JSON.stringify({ model: "openclaw" }));
  assert.equal(missing.status, 400);
  assert.equal((await jsonOf(missing)).error.param, "messages");
  const wrongMethod = await fetch(`${gateway.url}/v1/chat/completions`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
  assert.equal(wrongMethod.status, 405);
  assert.equal(wrongMethod.headers.get("allow"), "POST");
  assert.ok((await jsonOf(wrongMethod)).error.message);
  const unknown = await fetch(`${gateway.url}/v2/whatever`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
  assert.equal(unknown.status, 404);
  assert.ok((await jsonOf(unknown)).error.message);
  // HEAD wherever GET works (the head only); /healthz takes GET and HEAD, nothing else.
  const head = await fetch(`${gateway.url}/v1/models`, { method: "HEAD", headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), "");
  const deleteModels = await fetch(`${gateway.url}/v1/models`, { method: "DELETE", headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
  assert.equal(deleteModels.status, 405);
  assert.equal(deleteModels.headers.get("allow"), "GET, HEAD");
  assert.equal((await fetch(`${gateway.url}/healthz`, { method: "HEAD" })).status, 200);
  const postHealth = await fetch(`${gateway.url}/healthz`, { method: "POST" });
  assert.equal(postHealth.status, 405);
  assert.ok((await jsonOf(postHealth)).error.message);
});

test("a body over gateway.http.maxBodyBytes is 413", async () => {
  const gateway = await start({ gateway: { http: { maxBodyBytes: 1000 } } });
  const big = JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "x".repeat(5000) }] });
  const response = await post(gateway, "/v1/chat/completions", big);
  assert.equal(response.status, 413);
  assert.equal((await jsonOf(response)).error.code, "request_too_large");
});

test("an upstream that does not answer in time is 504", async () => {
  chutes.route("POST /chat/completions", { hang: true });
  const gateway = await start({ gateway: { http: { upstreamTimeoutMs: 300 } } });
  await assert.rejects(
    gateway.client().chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }),
    (error) => {
      assert.ok(error instanceof OpenAI.APIError);
      assert.equal((error as InstanceType<typeof OpenAI.APIError>).status, 504);
      return true;
    },
  );
});

test("too many auth failures from one client: 429 with Retry-After, even with the right token", async () => {
  const gateway = await start({ gateway: { auth: { rateLimit: { maxAttempts: 3, windowMs: 60_000, lockoutMs: 30_000 } } } });
  const bad = gateway.client({ apiKey: "wrong-token" });
  for (let i = 0; i < 3; i++) await assert.rejects(bad.models.list(), OpenAI.AuthenticationError);
  const locked = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
  assert.equal(locked.status, 429);
  const retryAfter = Number(locked.headers.get("retry-after"));
  assert.ok(retryAfter > 0 && retryAfter <= 30, `Retry-After ${retryAfter}`);
  assert.equal((await jsonOf(locked)).error.type, "rate_limit_error");
});

test("password mode takes the password as the bearer", async () => {
  const gateway = await start({ gateway: { auth: { mode: "password" } } }, undefined, {
    OPENCLAW_GATEWAY_PASSWORD: "correct horse battery staple",
  });
  const list = await gateway.client({ apiKey: "correct horse battery staple" }).models.list();
  assert.ok(list.data.length > 0);
  await assert.rejects(gateway.client().models.list(), OpenAI.AuthenticationError);
});

test("on a fresh state a strong token is generated, stored 0600, and printed only by `gateway token`", async () => {
  await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url } } } });
  const gateway = await startGateway(state, ["--enable-endpoints"], { OPENCLAW_GATEWAY_TOKEN: "" });
  running.push(gateway);
  assert.match(gateway.stderr(), /bearer token from credential store \(generated now\); print it with: openclaw gateway token/);
  const token = (await runCli(state, ["gateway", "token"])).stdout.trim();
  assert.match(token, /^ocg_[A-Za-z0-9_-]{43}$/);
  assert.ok(!gateway.stderr().includes(token) && !gateway.stdout().includes(token));
  const list = await gateway.client({ apiKey: token }).models.list();
  assert.ok(list.data.length > 0);
});

test("SIGTERM stops new connections but lets a live stream finish, then exits 0", async () => {
  chutes.route("POST /chat/completions", { events: wordStream(Array.from({ length: 8 }, (_, i) => ` w${i}`)), eventDelayMs: 150 });
  const gateway = await start();
  const stream = await gateway
    .client()
    .chat.completions.create({ model: "openclaw", stream: true, messages: [{ role: "user", content: "count" }] });
  let text = "";
  let signalled = false;
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta.content ?? "";
    if (!signalled && text.includes("w1")) {
      signalled = true;
      gateway.child.kill("SIGTERM");
      // The listener closes at once; the stream in flight goes on.
      const refused = await eventually(
        () =>
          fetch(`${gateway.url}/healthz`).then(
            () => false,
            () => true,
          ),
        (closed) => closed,
      );
      assert.ok(refused, "the gateway still accepted new connections after SIGTERM");
    }
  }
  assert.equal(text, " w0 w1 w2 w3 w4 w5 w6 w7");
  assert.equal(await gateway.exited, 0);
});

test("a bad --drain-timeout is refused before the gateway starts listening", async () => {
  await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url } } } });
  const result = await runCli(state, ["gateway", "--port", "0", "--drain-timeout", "soon"], {
    env: { OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN },
  });
  assert.equal(result.code, 1);
  assert.match(result.stderr, /--drain-timeout must be a whole number of milliseconds/);
  assert.ok(!result.stderr.includes("listening"));
});

test("a provider without a credential is a 503 naming the fix, not a 401", async () => {
  const gateway = await start({}, undefined, { CHUTES_API_KEY: "" });
  const response = await post(
    gateway,
    "/v1/chat/completions",
    JSON.stringify({ model: "chutes/zai-org/GLM-4.7-TEE", messages: [{ role: "user", content: "hi" }] }),
  );
  assert.equal(response.status, 503);
  const body = await jsonOf(response);
  assert.equal(body.error.code, "credential_missing");
  assert.match(body.error.message, /no credential for chutes/);
});

test("config set and paste-token apply to a running gateway without a restart", async () => {
  const gateway = await start({}, [], { CHUTES_API_KEY: "" });
  const ask = () =>
    post(gateway, "/v1/chat/completions", JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }));
  assert.equal((await ask()).status, 404);
  assert.equal((await runCli(state, ["config", "set", "gateway.http.endpoints.chatCompletions.enabled", "true"])).code, 0);
  const missing = await eventually(ask, (response) => response.status === 503);
  assert.equal(missing.status, 503);
  assert.equal(
    (await runCli(state, ["models", "auth", "paste-token", "--provider", "chutes"], { input: "cpk_pasted_while_running_0001\n" })).code,
    0,
  );
  const answered = await eventually(ask, (response) => response.status === 200);
  assert.equal(answered.status, 200);
  assert.equal(chutes.requests.at(-1)?.headers.authorization, "Bearer cpk_pasted_while_running_0001");
});

test("a broken config edit keeps the running config", async () => {
  const gateway = await start();
  const { writeFile } = await import("node:fs/promises");
  await writeFile(state.configPath, "{ gateway: ");
  await eventually(
    () => gateway.stdout(),
    (out) => out.includes("config reload failed"),
  );
  const response = await post(
    gateway,
    "/v1/chat/completions",
    JSON.stringify({ model: "openclaw", messages: [{ role: "user", content: "hi" }] }),
  );
  assert.equal(response.status, 200);
  assert.match(gateway.stdout(), /config reload failed; the running config stays/);
});

test("CORS only for configured origins; preflights need no token", async () => {
  const gateway = await start({ gateway: { http: { cors: { origins: ["http://localhost:3210"] } } } });
  const preflight = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "OPTIONS",
    headers: {
      origin: "http://localhost:3210",
      "access-control-request-method": "POST",
      "access-control-request-headers": "authorization, content-type, x-stainless-os",
    },
  });
  assert.equal(preflight.status, 204);
  assert.equal(preflight.headers.get("access-control-allow-origin"), "http://localhost:3210");
  assert.equal(preflight.headers.get("access-control-allow-headers"), "authorization, content-type, x-stainless-os");
  const listed = await fetch(`${gateway.url}/v1/models`, {
    headers: { origin: "http://localhost:3210", authorization: `Bearer ${GATEWAY_TOKEN}` },
  });
  assert.equal(listed.headers.get("access-control-allow-origin"), "http://localhost:3210");
  const stranger = await fetch(`${gateway.url}/v1/models`, {
    headers: { origin: "https://evil.example", authorization: `Bearer ${GATEWAY_TOKEN}` },
  });
  assert.equal(stranger.headers.get("access-control-allow-origin"), null);
});

test("a port in use is one clear line", async () => {
  const first = await start();
  const port = new URL(first.url).port;
  const second = await runCli(state, ["gateway", "--port", port], { env: { OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN } });
  assert.equal(second.code, 1);
  assert.match(second.stderr, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use`));
});
