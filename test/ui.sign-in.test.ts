import assert from "node:assert/strict";
import { UiSessions } from "../src/gateway/ui/ui-sessions.js";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";
import { uiCall, uiSignIn } from "./helpers/ui-client.js";
import { waitUntil } from "./helpers/wait.js";

/** Sign-in's life cycle: a token change ends sessions, failures count towards the lockout, the switch turns /ui off. */
let state: TestState;
let gateway: RunningGateway;
const FIRST_TOKEN = "ui-first-token-0123456789abcdef";
const SECOND_TOKEN = "ui-second-token-0123456789abcdef";

const config = (token: string, ui: { enabled?: boolean } = {}) => ({
  gateway: { auth: { token, rateLimit: { maxAttempts: 3, lockoutMs: 600_000, exemptLoopback: false } }, ui },
});

before(async () => {
  state = await createTestState();
  await writeConfig(state, config(FIRST_TOKEN));
  gateway = await startGateway(state);
});
after(async () => {
  await gateway?.stop();
  await state?.cleanup();
});

const reloads = () => gateway.stdout().split("config reloaded").length - 1;

test("changing the gateway token ends dashboard sessions; the new token signs in", async () => {
  const session = await uiSignIn(gateway.url, FIRST_TOKEN);
  assert.equal((await uiCall(gateway.url, session, "session")).status, 200);
  const before = reloads();
  await writeConfig(state, config(SECOND_TOKEN));
  await waitUntil(() => reloads() > before, { what: "the config reload" });
  const ended = await uiCall(gateway.url, session, "session");
  assert.equal(ended.status, 401);
  assert.equal(((await ended.json()) as { error: { code: string } }).error.code, "ui_session_required");
  const renewed = await uiSignIn(gateway.url, SECOND_TOKEN);
  assert.equal((await uiCall(gateway.url, renewed, "session")).status, 200);
});

test("failed sign-ins count towards the gateway's lockout: past it even the right token is refused (429)", async () => {
  const login = (token: string) =>
    uiCall(gateway.url, undefined, "login", { method: "POST", body: { token }, headers: { origin: gateway.url } });
  for (let attempt = 0; attempt < 3; attempt++) {
    const refused = await login(`wrong-${attempt}`);
    assert.equal(refused.status, 401);
    assert.equal(refused.headers.get("set-cookie"), null);
  }
  const locked = await login(SECOND_TOKEN);
  assert.equal(locked.status, 429);
  assert.ok(Number(locked.headers.get("retry-after")) > 0);
  // The same lockout applies to the API: one budget of guesses, whichever door.
  const api = await fetch(`${gateway.url}/v1/models`, { headers: { authorization: `Bearer ${SECOND_TOKEN}` } });
  assert.equal(api.status, 429);
});

test("gateway.ui.enabled false: /ui and its API answer 404 (applied without a restart)", async () => {
  assert.equal((await fetch(`${gateway.url}/ui`)).status, 200);
  const before = reloads();
  assert.equal((await runCli(state, ["config", "set", "gateway.ui.enabled", "false"])).code, 0);
  await waitUntil(() => reloads() > before, { what: "the config reload" });
  for (const path of ["/ui", "/ui/", "/ui/api/session"]) {
    const response = await fetch(`${gateway.url}${path}`);
    assert.equal(response.status, 404, path);
    assert.match(((await response.json()) as { error: { message: string } }).error.message, /gateway\.ui\.enabled/);
  }
});

test("dashboard sessions are bounded in number (oldest signed out first) and in time", () => {
  let now = 1_000_000;
  const sessions = new UiSessions(() => now, 60_000, 3);
  const digest = Buffer.alloc(32, 1);
  const made = [0, 1, 2, 3].map(() => sessions.create(digest));
  assert.equal(sessions.size, 3);
  assert.equal(sessions.find(made[0]?.id, digest), undefined);
  for (const session of made.slice(1)) assert.ok(sessions.find(session.id, digest));
  assert.equal(sessions.find(made[3]?.id, Buffer.alloc(32, 2)), undefined, "another secret's digest ends the session");
  now += 60_000;
  assert.equal(sessions.find(made[2]?.id, digest), undefined, "expired");
  assert.equal(sessions.find("not-a-session", digest), undefined);
});
