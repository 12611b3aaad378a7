import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import JSON5 from "json5";
import { createTestState, isOneLineError, runCli, runShell, type TestState } from "./helpers/cli.js";
import { spawnCliInPty } from "./helpers/pty.js";
import { afterEach, beforeEach, test } from "./helpers/test.js";

const CHUTES_KEY = "cpk_FAKE-test-key-not-a-real-credential.0000.a1b2";

let state: TestState;
beforeEach(async () => {
  state = await createTestState();
});
afterEach(() => state.cleanup());

const readStore = async () => JSON.parse(await readFile(state.authProfilesPath, "utf8"));

test("a piped key is trimmed, stored as chutes:manual and printed redacted", async () => {
  const result = await runShell(state, `echo "  ${CHUTES_KEY}  " | openclaw models auth paste-token --provider chutes`);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /Saved chutes:manual \(cpk_…a1b2\)/);
  assert.ok(!result.stdout.includes(CHUTES_KEY) && !result.stderr.includes(CHUTES_KEY));
  const store = await readStore();
  const { storedAt, ...profile } = store.profiles["chutes:manual"];
  assert.deepEqual(profile, { type: "api_key", provider: "chutes", key: CHUTES_KEY });
  assert.equal(typeof storedAt, "number");
  const config = JSON5.parse(await readFile(state.configPath, "utf8"));
  assert.deepEqual(config.auth.profiles["chutes:manual"], { provider: "chutes", mode: "api_key" });
});

test("the secret never lands in openclaw.json and the store is 0600 in a 0700 directory", async () => {
  await runCli(state, ["models", "auth", "paste-token", "--provider", "chutes"], { input: `${CHUTES_KEY}\n` });
  const configText = await readFile(state.configPath, "utf8");
  assert.ok(!configText.includes(CHUTES_KEY));
  assert.ok(!configText.includes("a1b2"));
  assert.equal((await stat(state.authProfilesPath)).mode & 0o777, 0o600);
  assert.equal((await stat(path.dirname(state.authProfilesPath))).mode & 0o777, 0o700);
  assert.equal((await stat(state.stateDir)).mode & 0o777, 0o700);
  assert.equal((await stat(state.configPath)).mode & 0o777, 0o600);
});

test("no command prints the stored secret", async () => {
  await runCli(state, ["models", "auth", "paste-token", "--provider", "chutes"], { input: CHUTES_KEY });
  for (const args of [
    ["config", "get"],
    ["config", "get", "--json"],
    ["models", "auth", "list"],
    ["models", "auth", "list", "--json"],
  ]) {
    const result = await runCli(state, args);
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    assert.ok(!result.stdout.includes(CHUTES_KEY) && !result.stderr.includes(CHUTES_KEY), args.join(" "));
  }
  const listed = JSON.parse((await runCli(state, ["models", "auth", "list", "--json"])).stdout);
  assert.deepEqual(listed.profiles, [{ id: "chutes:manual", provider: "chutes", type: "api_key", secret: "cpk_…a1b2" }]);
});

test("empty piped input is a clear error and writes nothing", async () => {
  const result = await runShell(state, `echo "   " | openclaw models auth paste-token --provider chutes`);
  assert.notEqual(result.code, 0);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /empty input/);
  await assert.rejects(stat(state.authProfilesPath));
  await assert.rejects(stat(state.configPath));
});

test("--profile-id picks the profile; a mismatched provider prefix is refused", async () => {
  const ok = await runCli(state, ["models", "auth", "paste-token", "--provider", "huggingface", "--profile-id", "huggingface:work"], {
    input: "hf_FAKE_test_token_0123\n",
  });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal((await readStore()).profiles["huggingface:work"].key, "hf_FAKE_test_token_0123");
  const bad = await runCli(state, ["models", "auth", "paste-token", "--provider", "huggingface", "--profile-id", "chutes:work"], {
    input: "x\n",
  });
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /must look like huggingface:<name>/);
});

test("a key typed at a terminal is masked, stored, and never echoed", async () => {
  const session = spawnCliInPty(["models", "auth", "paste-token", "--provider", "chutes"], state.env);
  await session.waitFor(/Paste the chutes API key or token/);
  session.write(CHUTES_KEY);
  await session.waitFor(/\*{20}/);
  session.write("\r");
  assert.equal(await session.exit, 0, session.output());
  assert.ok(!session.output().includes(CHUTES_KEY), "the key was echoed to the terminal");
  assert.match(session.output(), /Saved chutes:manual \(cpk_…a1b2\)/);
  assert.equal((await readStore()).profiles["chutes:manual"].key, CHUTES_KEY);
});

test("Ctrl-C at the terminal prompt cancels and writes nothing", async () => {
  const session = spawnCliInPty(["models", "auth", "paste-token", "--provider", "chutes"], state.env);
  await session.waitFor(/Paste the chutes API key or token/);
  session.write("cpk_partial");
  session.write("\x03");
  assert.notEqual(await session.exit, 0);
  assert.match(session.output(), /cancelled; nothing was written/);
  await assert.rejects(stat(state.authProfilesPath));
});

test("models auth remove deletes the credential and its config entry", async () => {
  await runCli(state, ["models", "auth", "paste-token", "--provider", "chutes"], { input: CHUTES_KEY });
  const result = await runCli(state, ["models", "auth", "remove", "chutes:manual"]);
  assert.equal(result.code, 0, result.stderr);
  assert.deepEqual((await readStore()).profiles, {});
  const config = JSON5.parse(await readFile(state.configPath, "utf8"));
  assert.equal(config.auth, undefined);
});
