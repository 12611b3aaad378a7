import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeIdp, startFakeIdp } from "./helpers/fake-idp.js";
import { type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, jsonOf, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";

let idp: FakeIdp;
let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;

before(async () => {
  idp = await startFakeIdp();
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", { events: wordStream(["never"]) });
  state = await createTestState();
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url, oauth: { baseUrl: idp.url } } } },
    auth: { profiles: { "chutes:oauth": { provider: "chutes", mode: "oauth" } } },
    agents: { defaults: { model: { primary: "chutes/zai-org/GLM-4.7-TEE" } } },
  });
  const pair = idp.issue();
  await mkdir(path.dirname(state.authProfilesPath), { recursive: true, mode: 0o700 });
  const profile = { type: "oauth", provider: "chutes", clientId: idp.clientId, ...pair, expires: Date.now() - 1000 };
  await writeFile(state.authProfilesPath, JSON.stringify({ version: 1, profiles: { "chutes:oauth": profile } }), { mode: 0o600 });
  // Not invalid_grant: the sign-in is not over, the IdP just cannot refresh right now.
  idp.failRefreshWith = 400;
  gateway = await startGateway(state);
});
after(async () => {
  await gateway.stop();
  await idp.close();
  await chutes.close();
  await state.cleanup();
});

test("an expired token whose refresh fails is a 503 for the client, not a 401 blaming its gateway token", async () => {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "chutes/zai-org/GLM-4.7-TEE", messages: [{ role: "user", content: "hi" }] }),
  });
  assert.equal(response.status, 503);
  const body = await jsonOf(response);
  assert.equal(body.error.code, "credential_refresh_failed");
  assert.match(body.error.message, /could not refresh the sign-in chutes:oauth/);
  // The next request does not hammer the IdP again at once.
  const again = await gateway
    .client()
    .chat.completions.create({ model: "chutes/zai-org/GLM-4.7-TEE", messages: [{ role: "user", content: "hi" }] })
    .catch((error: { status?: number }) => error);
  assert.equal((again as { status?: number }).status, 503);
  assert.equal(idp.refreshCalls, 1);
  assert.equal(chutes.requests.filter((request) => request.path === "/v1/chat/completions").length, 0);
});
