import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { createTestState, readStore, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeIdp, freePort, startFakeIdp } from "./helpers/fake-idp.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { type RedisServer, startRedisServer } from "./helpers/redis-server.js";
import { after, before, test } from "./helpers/test.js";

// Chutes rotates refresh tokens with no grace window (the fake IdP refuses a reused one): five
// processes that all find the access token expired must spend the refresh token once, and all
// use the pair that one refresh returned.
let redis: RedisServer;
let idp: FakeIdp;
let chutes: FakeUpstream;
let state: TestState;
let replicas: RunningGateway[] = [];

before(async () => {
  redis = await startRedisServer();
  idp = await startFakeIdp();
  chutes = await startFakeChutes();
  state = await createTestState({ TEST_REDIS_URL: redis.url });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url, oauth: { baseUrl: idp.url } } } },
    auth: { profiles: { "chutes:oauth": { provider: "chutes", mode: "oauth" } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
    gateway: { state: { redis: "${TEST_REDIS_URL}" } },
  });
});
after(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()));
  await chutes.close();
  await idp.close();
  await redis.stop();
  await state.cleanup();
});

test("three replicas and two CLI processes refresh one rotating OAuth token once, and all end with the same valid pair", async () => {
  const old = idp.issue();
  await mkdir(path.dirname(state.authProfilesPath), { recursive: true, mode: 0o700 });
  const profile = { type: "oauth", provider: "chutes", clientId: idp.clientId, account: { username: "alice" } };
  await writeFile(
    state.authProfilesPath,
    JSON.stringify({
      version: 1,
      profiles: { "chutes:oauth": { ...profile, access: old.access, refresh: old.refresh, expires: Date.now() - 1000 } },
    }),
    { mode: 0o600 },
  );
  replicas = await Promise.all([startGateway(state), startGateway(state), startGateway(state)]);
  // A slow IdP, so that every process finds the token expired while the one refresh is under way.
  idp.refreshDelayMs = 1500;
  chutes.requests.length = 0;
  const [cliOne, cliTwo, ...answers] = await Promise.all([
    runCli(state, ["chat", "from the first CLI"]),
    runCli(state, ["chat", "from the second CLI"]),
    ...replicas.map((replica) =>
      replica.client().chat.completions.create({ model: "chutes/zai-org/GLM-4.7-TEE", messages: [{ role: "user", content: "hi" }] }),
    ),
  ]);
  assert.equal(cliOne.code, 0, cliOne.stderr);
  assert.equal(cliTwo.code, 0, cliTwo.stderr);
  assert.equal(answers.length, 3);
  assert.equal(idp.refreshCalls, 1, "exactly one refresh reached the IdP");

  const stored = (await readStore(state)).profiles["chutes:oauth"];
  assert.notEqual(stored.refresh, old.refresh);
  assert.equal(stored.needsReauth, undefined);
  assert.ok(idp.validAccess.has(stored.access), "the stored access token is the one the IdP issued");
  const used = chutes.requests.filter((request) => request.path === "/v1/chat/completions").map((request) => request.headers.authorization);
  assert.equal(used.length, 5);
  assert.deepEqual(new Set(used), new Set([`Bearer ${stored.access}`]), "all five used the new access token");
  // Nothing about the tokens is left in Redis but a lock-free state and a digest.
  const keys = await redis.command("KEYS", "*");
  assert.ok(!keys.includes(stored.refresh) && !keys.includes(old.refresh));
  assert.ok(!(await redis.command("GET", "openclaw:lock:oauth-refresh:chutes:oauth:spent")).includes(old.refresh));
});

test("with Redis unreachable, a CLI still refreshes (under the credential store's lock, as on one machine)", async () => {
  const dead = await createTestState({ TEST_REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
  try {
    await writeConfig(dead, {
      models: { providers: { chutes: { baseUrl: chutes.url, oauth: { baseUrl: idp.url } } } },
      auth: { profiles: { "chutes:oauth": { provider: "chutes", mode: "oauth" } } },
      agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
      gateway: { state: { redis: "${TEST_REDIS_URL}" } },
    });
    const old = idp.issue();
    await mkdir(path.dirname(dead.authProfilesPath), { recursive: true, mode: 0o700 });
    const profile = {
      type: "oauth",
      provider: "chutes",
      clientId: idp.clientId,
      access: old.access,
      refresh: old.refresh,
      expires: Date.now() - 1000,
    };
    await writeFile(dead.authProfilesPath, JSON.stringify({ version: 1, profiles: { "chutes:oauth": profile } }), { mode: 0o600 });
    idp.refreshDelayMs = 0;
    const calls = idp.refreshCalls;
    const result = await runCli(dead, ["chat", "hi"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(idp.refreshCalls, calls + 1);
    assert.notEqual((await readStore(dead)).profiles["chutes:oauth"].refresh, old.refresh);
  } finally {
    await dead.cleanup();
  }
});
