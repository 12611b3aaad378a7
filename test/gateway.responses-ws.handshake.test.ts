import assert from "node:assert/strict";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";
import { tryConnect, wsUrl } from "./helpers/ws-client.js";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
let disabled: RunningGateway;

const ALLOWED_ORIGIN = "http://localhost:3210";

before(async () => {
  chutes = await startFakeChutes();
  state = await createTestState({ CHUTES_API_KEY: "cpk_responses_ws_handshake_key0" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
    gateway: {
      auth: { rateLimit: { maxAttempts: 4, windowMs: 600_000, lockoutMs: 600_000 } },
      http: { cors: { origins: [ALLOWED_ORIGIN] } },
    },
  });
  gateway = await startGateway(state);
  // Same state, endpoints off (no --enable-endpoints, nothing in the config turns them on).
  disabled = await startGateway(state, []);
});
after(async () => {
  await gateway.stop();
  await disabled.stop();
  await chutes.close();
  await state.cleanup();
});

const bearerProtocol = (token: string) => `openclaw-bearer.${Buffer.from(token).toString("base64url")}`;

test("a wrong token is refused with HTTP 401 before the upgrade: the client never sees open", async () => {
  const attempt = await tryConnect(wsUrl(gateway.url), { headers: { authorization: "Bearer wrong-token" } });
  assert.equal(attempt.opened, false);
  if (attempt.opened) return;
  assert.equal(attempt.status, 401);
  assert.equal(JSON.parse(attempt.body).error.code, "invalid_api_key");
  // No token at all, or one in the query string (never read), is refused the same way.
  const missing = await tryConnect(`${wsUrl(gateway.url)}?token=${GATEWAY_TOKEN}`);
  assert.equal(missing.opened, false);
  if (!missing.opened) assert.equal(JSON.parse(missing.body).error.code, "missing_api_key");
});

test("a browser's subprotocol token authenticates; the gateway echoes only the fixed protocol name", async () => {
  const attempt = await tryConnect(wsUrl(gateway.url), {
    protocols: ["openclaw.responses", bearerProtocol(GATEWAY_TOKEN)],
    origin: ALLOWED_ORIGIN,
  });
  assert.equal(attempt.opened, true);
  if (!attempt.opened) return;
  assert.equal(attempt.ws.protocol, "openclaw.responses");
  attempt.ws.close();
  const wrong = await tryConnect(wsUrl(gateway.url), { protocols: ["openclaw.responses", bearerProtocol("not-the-token")] });
  assert.equal(wrong.opened, false);
  if (!wrong.opened) assert.equal(wrong.status, 401);
  // Without the fixed name there is nothing the server could echo but the token: refused.
  const alone = await tryConnect(wsUrl(gateway.url), { protocols: [bearerProtocol(GATEWAY_TOKEN)] });
  assert.equal(alone.opened, false);
  if (!alone.opened) {
    assert.equal(alone.status, 400);
    assert.equal(JSON.parse(alone.body).error.code, "invalid_subprotocol");
  }
});

test("a browser origin outside gateway.http.cors.origins is refused with 403, token or not", async () => {
  const attempt = await tryConnect(wsUrl(gateway.url), {
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}` },
    origin: "https://evil.example",
  });
  assert.equal(attempt.opened, false);
  if (attempt.opened) return;
  assert.equal(attempt.status, 403);
  assert.equal(JSON.parse(attempt.body).error.code, "origin_not_allowed");
});

test("the endpoint obeys the Responses switch: off, the upgrade is a 404 endpoint_disabled", async () => {
  const attempt = await tryConnect(wsUrl(disabled.url), { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
  assert.equal(attempt.opened, false);
  if (attempt.opened) return;
  assert.equal(attempt.status, 404);
  assert.equal(JSON.parse(attempt.body).error.code, "endpoint_disabled");
  const elsewhere = await tryConnect(`${gateway.url.replace(/^http/, "ws")}/v1/chat/completions`, {
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}` },
  });
  assert.equal(elsewhere.opened, false);
  if (!elsewhere.opened) assert.equal(elsewhere.status, 404);
});

// Last: it locks loopback out of this gateway.
test("failed upgrades count toward the auth lockout, and a locked-out client gets 429 + Retry-After before its token is looked at", async () => {
  for (let i = 0; i < 4; i++) await tryConnect(wsUrl(gateway.url), { headers: { authorization: "Bearer guess" } });
  const locked = await tryConnect(wsUrl(gateway.url), { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
  assert.equal(locked.opened, false);
  if (locked.opened) return;
  assert.equal(locked.status, 429);
  assert.ok(Number(locked.headers["retry-after"]) > 0);
  assert.equal(JSON.parse(locked.body).error.code, "auth_rate_limited");
});
