import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { createTestState, readConfig, readStore, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeIdp, startFakeIdp } from "./helpers/fake-idp.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

let idp: FakeIdp;
let chutes: FakeUpstream;
let state: TestState;

before(async () => {
  idp = await startFakeIdp();
  chutes = await startFakeChutes();
});
after(async () => {
  await idp.close();
  await chutes.close();
});
beforeEach(async () => {
  idp.refreshCalls = 0;
  idp.refreshDelayMs = 0;
  idp.failRefreshWith = undefined;
  idp.revoked.length = 0;
  chutes.requests.length = 0;
  state = await createTestState();
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url, oauth: { baseUrl: idp.url } } } },
    auth: { profiles: { "chutes:oauth": { provider: "chutes", mode: "oauth" } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
  });
});
afterEach(() => state.cleanup());

async function storeProfile(profile: Record<string, unknown>): Promise<void> {
  await mkdir(path.dirname(state.authProfilesPath), { recursive: true, mode: 0o700 });
  const data = {
    version: 1,
    profiles: { "chutes:oauth": { type: "oauth", provider: "chutes", clientId: idp.clientId, account: { username: "alice" }, ...profile } },
  };
  await writeFile(state.authProfilesPath, JSON.stringify(data), { mode: 0o600 });
}

const chatTokens = () =>
  chutes.requests.filter((request) => request.path === "/v1/chat/completions").map((request) => request.headers.authorization);

test("a token about to expire is refreshed before the request, and the rotated pair is stored", async () => {
  const old = idp.issue();
  await storeProfile({ access: old.access, refresh: old.refresh, expires: Date.now() + 60_000 });
  const result = await runCli(state, ["chat", "hi"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(idp.refreshCalls, 1);
  const profile = (await readStore(state)).profiles["chutes:oauth"];
  assert.notEqual(profile.access, old.access);
  assert.notEqual(profile.refresh, old.refresh);
  assert.ok(profile.expires > Date.now() + 3_000_000);
  assert.deepEqual(chatTokens(), [`Bearer ${profile.access}`]);
  // A fresh token is used as is.
  await runCli(state, ["chat", "again"]);
  assert.equal(idp.refreshCalls, 1);
});

test("an IdP outage does not block requests while the current token is still valid", async () => {
  const pair = idp.issue();
  await storeProfile({ access: pair.access, refresh: pair.refresh, expires: Date.now() + 120_000 });
  idp.failRefreshWith = 503;
  const result = await runCli(state, ["chat", "hi"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /could not refresh chutes:oauth .*using the current token/);
  assert.deepEqual(chatTokens(), [`Bearer ${pair.access}`]);
  assert.equal((await readStore(state)).profiles["chutes:oauth"].refresh, pair.refresh);
});

test("two processes refreshing at once: one refresh reaches the IdP, both use the new token", async () => {
  const old = idp.issue();
  await storeProfile({ access: old.access, refresh: old.refresh, expires: Date.now() - 1000 });
  idp.refreshDelayMs = 300;
  const [first, second] = await Promise.all([runCli(state, ["chat", "one"]), runCli(state, ["chat", "two"])]);
  assert.equal(first.code, 0, first.stderr);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(idp.refreshCalls, 1);
  const profile = (await readStore(state)).profiles["chutes:oauth"];
  assert.deepEqual(chatTokens(), [`Bearer ${profile.access}`, `Bearer ${profile.access}`]);
  assert.ok(idp.validAccess.has(profile.access));
});

test("a refused refresh (invalid_grant) marks the profile as needing sign-in and says how", async () => {
  await storeProfile({ access: "cak_expired_and_unknown", refresh: "crt_already_used_elsewhere", expires: Date.now() - 1000 });
  const result = await runCli(state, ["chat", "hi"]);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /chutes:oauth has expired or was revoked: sign in again with `openclaw onboard --auth-choice chutes`/);
  assert.equal((await readStore(state)).profiles["chutes:oauth"].needsReauth, true);
  assert.equal(chatTokens().length, 0);
  const status = await runCli(state, ["models", "status", "--check", "--json"]);
  assert.equal(status.code, 1);
  const body = JSON.parse(status.stdout);
  assert.equal(body.providers[0].oauth[0].state, "needs sign-in");
});

test("models status shows the account, expiry and state; --check is 2 when a sign-in expires within 24 h", async () => {
  const pair = idp.issue();
  await storeProfile({ access: pair.access, refresh: pair.refresh, expires: Date.now() + 3_600_000 });
  const ok = await runCli(state, ["models", "status", "--check"]);
  assert.equal(ok.code, 0, ok.stdout);
  assert.match(ok.stdout, /chutes:oauth: signed in as alice; access token until .* \(refreshed automatically\); ok/);
  assert.ok(!ok.stdout.includes(pair.access));

  await storeProfile({ access: pair.access, expires: Date.now() + 2 * 3_600_000 });
  const expiring = await runCli(state, ["models", "status", "--check", "--json"]);
  assert.equal(expiring.code, 2);
  assert.equal(JSON.parse(expiring.stdout).providers[0].oauth[0].state, "expiring");

  await storeProfile({ access: pair.access, expires: Date.now() - 1000 });
  const expired = await runCli(state, ["models", "status", "--check"]);
  assert.equal(expired.code, 1);
  assert.match(expired.stdout, /chutes:oauth has expired/);
});

test("logout revokes both tokens at the IdP and removes the profile", async () => {
  const pair = idp.issue();
  await storeProfile({ access: pair.access, refresh: pair.refresh, expires: Date.now() + 3_600_000 });
  const result = await runCli(state, ["models", "auth", "logout", "--provider", "chutes"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Signed out chutes:oauth \(tokens revoked at Chutes\)/);
  assert.deepEqual(idp.revoked.sort(), [pair.access, pair.refresh].sort());
  assert.deepEqual((await readStore(state)).profiles, {});
  assert.equal((await readConfig(state)).auth, undefined);
});

test("logout still removes the profile when the IdP cannot be reached", async () => {
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url, oauth: { baseUrl: "http://127.0.0.1:9" } } } },
    auth: { profiles: { "chutes:oauth": { provider: "chutes", mode: "oauth" } } },
  });
  await storeProfile({ access: "cak_x", refresh: "crt_x", expires: Date.now() + 3_600_000 });
  const result = await runCli(state, ["models", "auth", "logout", "--provider", "chutes"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /could not be reached/);
  assert.deepEqual((await readStore(state)).profiles, {});
});

test("CHUTES_OAUTH_TOKEN in the environment is used as the bearer", async () => {
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
  });
  const result = await runCli(state, ["chat", "hi"], { env: { CHUTES_OAUTH_TOKEN: "cak_from_the_environment_0001" } });
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual(chatTokens(), ["Bearer cak_from_the_environment_0001"]);
});
