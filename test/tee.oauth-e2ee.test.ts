import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { createTestState, readStore, type TestState, writeConfig } from "./helpers/cli.js";
import { ENCLAVE_REPLY } from "./helpers/fake-chutes-tee/inner-chat.js";
import { type FakeTeeStack, STACK_MODEL, startFakeTeeStack } from "./helpers/fake-chutes-tee/tee-stack.js";
import { type FakeIdp, startFakeIdp } from "./helpers/fake-idp.js";
import { GATEWAY_TOKEN, startGateway } from "./helpers/gateway.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

/**
 * Sign in with Chutes on the E2EE path: the fake TEE stack accepts only access tokens the fake
 * IdP has issued, and records which one each request carried (instances, evidence, invoke).
 */
let idp: FakeIdp;
let stack: FakeTeeStack;
let state: TestState;
/** Every authorized-or-not request to the Chutes stand-in: which token, on which path. */
const seen: Array<{ token: string | undefined; path: string }> = [];
const tokensOn = (paths: RegExp) => new Set(seen.filter((entry) => paths.test(entry.path)).map((entry) => entry.token));
const RECEIPT = /^instance=inst-[12]; quote-sha256=[0-9a-f]{64}; tcb=UpToDate; /;

before(async () => {
  idp = await startFakeIdp();
  stack = await startFakeTeeStack({
    authorize: (authorization, path) => {
      const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
      seen.push({ token, path });
      return token !== undefined && idp.validAccess.has(token);
    },
  });
});
after(async () => {
  await stack.close();
  await idp.close();
});
beforeEach(async () => {
  seen.length = 0;
  idp.refreshCalls = 0;
  state = await createTestState({ CHUTES_API_KEY: "", CHUTES_OAUTH_TOKEN: "" });
  await writeConfig(state, {
    models: { providers: { chutes: stack.providerConfig({ oauth: { baseUrl: idp.url } }) } },
    auth: { profiles: { "chutes:oauth": { provider: "chutes", mode: "oauth" } } },
    agents: { defaults: { model: { primary: `chutes/${STACK_MODEL}` } } },
  });
});
afterEach(() => state.cleanup());

async function storeOAuthProfile(profile: { access: string; refresh: string; expires: number }): Promise<void> {
  await mkdir(path.dirname(state.authProfilesPath), { recursive: true, mode: 0o700 });
  const data = { version: 1, profiles: { "chutes:oauth": { type: "oauth", provider: "chutes", clientId: idp.clientId, ...profile } } };
  await writeFile(state.authProfilesPath, JSON.stringify(data), { mode: 0o600 });
}

async function e2eeChat(stream: boolean): Promise<{ status: number; receipt: string | null; text: string }> {
  const gateway = await startGateway(state);
  try {
    const response = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ model: `chutes/${STACK_MODEL}`, stream, messages: [{ role: "user", content: "hello" }] }),
    });
    return { status: response.status, receipt: response.headers.get("x-openclaw-tee"), text: await response.text() };
  } finally {
    await gateway.stop();
  }
}

/** Attestation (instances, evidence) and the encrypted invoke. */
const E2EE_PATH = /^\/(e2e\/|chutes\/.+\/evidence$)/;
const invokes = () => stack.e2ee.seen.filter((seen) => seen.path === "/e2e/invoke");

test("a Sign in with Chutes token carries an E2EE chat: attestation, nonces and invoke all use it", async () => {
  const pair = idp.issue();
  await storeOAuthProfile({ ...pair, expires: Date.now() + 3_600_000 });
  const before = invokes().length;
  const answer = await e2eeChat(false);
  assert.equal(answer.status, 200, answer.text);
  assert.match(answer.receipt ?? "", RECEIPT);
  assert.equal(JSON.parse(answer.text).choices[0].message.content, ENCLAVE_REPLY);
  assert.equal(stack.plaintextChats, 0);
  assert.ok(invokes().length > before);
  assert.deepEqual(tokensOn(E2EE_PATH), new Set([pair.access]));
  assert.deepEqual(
    new Set(seen.filter((entry) => E2EE_PATH.test(entry.path)).map((entry) => entry.path.split("/")[1])),
    new Set(["e2e", "chutes"]),
  );
  assert.equal(idp.refreshCalls, 0);
});

test("an expired Sign in with Chutes token is refreshed first; the E2EE stream and its attestation use only the new one", async () => {
  const old = idp.issue();
  await storeOAuthProfile({ ...old, expires: Date.now() - 1_000 });
  const answer = await e2eeChat(true);
  assert.equal(answer.status, 200, answer.text);
  assert.match(answer.receipt ?? "", RECEIPT);
  const content = answer.text
    .split("\n\n")
    .filter((event) => event.startsWith("data: {"))
    .map((event) => JSON.parse(event.slice(6)).choices?.[0]?.delta?.content ?? "")
    .join("");
  assert.equal(content, ENCLAVE_REPLY);
  assert.equal(idp.refreshCalls, 1);
  const fresh = (await readStore(state)).profiles["chutes:oauth"].access as string;
  assert.notEqual(fresh, old.access);
  assert.deepEqual(tokensOn(E2EE_PATH), new Set([fresh]), "the expired token never reached the E2EE path");
});
