import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { createTestState, isOneLineError, readConfig, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { spawnCliInPty } from "./helpers/pty.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

/** Onboarding offers end-to-end encryption when the default model is a Chutes TEE model (`--e2ee`, or a question). */
const CHUTES_KEY = "cpk_FAKE-onboard-e2ee-key.0000.c3d4";
const ONBOARD = ["onboard", "--non-interactive", "--accept-risk", "--auth-choice", "chutes-api-key", "--chutes-api-key", CHUTES_KEY];

let chutes: FakeUpstream;
let state: TestState;
before(async () => {
  chutes = await startFakeChutes();
});
after(() => chutes.close());
beforeEach(async () => {
  state = await createTestState({ CHUTES_API_KEY: "" });
  // The fake's live list: three TEE models (none of them built in) and one that is not.
  await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url } } } });
});
afterEach(() => state.cleanup());

test("--e2ee with the built-in TEE default turns on models.providers.chutes.e2ee and says so", async () => {
  const result = await runCli(state, [...ONBOARD, "--e2ee"]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /models\.providers\.chutes\.e2ee = true/);
  const config = await readConfig(state);
  assert.equal(config.models.providers.chutes.e2ee, true);
  assert.equal(config.agents.defaults.model.primary, "chutes/zai-org/GLM-4.7-TEE");
});

test("--e2ee with a default model the live list declares TEE (not built in) is accepted", async () => {
  const result = await runCli(state, [...ONBOARD, "--model", "chutes/Qwen/Qwen3-32B-TEE", "--e2ee"]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal((await readConfig(state)).models.providers.chutes.e2ee, true);
  assert.equal(chutes.requests.at(-1)?.headers.authorization, `Bearer ${CHUTES_KEY}`);
});

test("--e2ee with a non-TEE default model is refused in one line and nothing is written", async () => {
  const before = await readFile(state.configPath, "utf8");
  const result = await runCli(state, [...ONBOARD, "--model", "chutes/unsloth/gemma-3-12b-it", "--e2ee"]);
  assert.notEqual(result.code, 0);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /--e2ee: unsloth\/gemma-3-12b-it is not a TEE \(confidential compute\) model; nothing was written/);
  assert.equal(await readFile(state.configPath, "utf8"), before);
  await assert.rejects(readFile(state.authProfilesPath));
});

test("--no-e2ee turns it off; no flag leaves the setting as it was", async () => {
  await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url, e2ee: true } } } });
  assert.equal((await runCli(state, ONBOARD)).code, 0);
  assert.equal((await readConfig(state)).models.providers.chutes.e2ee, true);
  assert.equal((await runCli(state, [...ONBOARD, "--no-e2ee"])).code, 0);
  assert.equal((await readConfig(state)).models.providers.chutes.e2ee, false);
});

const DOWN = "\x1b[B";
const settle = () => new Promise((resolve) => setTimeout(resolve, 100));

async function interactive(pick: string[], answerE2ee: string | undefined) {
  const session = spawnCliInPty(["onboard", "--auth-choice", "chutes-api-key", "--accept-risk"], state.env);
  await session.waitFor(/Chutes API key/);
  session.write(CHUTES_KEY);
  await settle();
  session.write("\r");
  await session.waitFor(/Default model/);
  for (const key of pick) {
    session.write(key);
    await settle();
  }
  session.write("\r");
  if (answerE2ee !== undefined) {
    await session.waitFor(/Encrypt prompts end to end/);
    assert.match(session.output(), /no plaintext fallback/i);
    session.write(answerE2ee);
    await settle();
    session.write("\r");
  }
  assert.equal(await session.exit, 0, session.output());
  return session.output();
}

test("interactive: a TEE default model brings the E2EE question; yes turns it on", async () => {
  await interactive([], "y");
  const config = await readConfig(state);
  assert.equal(config.agents.defaults.model.primary, "chutes/Qwen/Qwen3-32B-TEE");
  assert.equal(config.models.providers.chutes.e2ee, true);
});

test("interactive: a non-TEE default model is not asked about E2EE", async () => {
  const output = await interactive([DOWN, DOWN, DOWN], undefined);
  assert.doesNotMatch(output, /Encrypt prompts end to end/);
  const config = await readConfig(state);
  assert.equal(config.agents.defaults.model.primary, "chutes/unsloth/gemma-3-12b-it");
  assert.equal(config.models.providers.chutes.e2ee, undefined);
});

test("interactive with teeOnly: only TEE models are offered as the default (the provider's filter)", async () => {
  await writeConfig(state, { models: { providers: { chutes: { baseUrl: chutes.url, teeOnly: true } } } });
  const session = spawnCliInPty(["onboard", "--auth-choice", "chutes-api-key", "--accept-risk", "--no-e2ee"], state.env);
  await session.waitFor(/Chutes API key/);
  session.write(CHUTES_KEY);
  await settle();
  session.write("\r");
  await session.waitFor(/Default model/);
  await session.waitFor(/GLM-5\.1-TEE/);
  assert.doesNotMatch(session.output(), /gemma/);
  session.write("\r");
  assert.equal(await session.exit, 0, session.output());
  assert.equal((await readConfig(state)).models.providers.chutes.e2ee, false);
});
