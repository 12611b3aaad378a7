import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { ValidationMemo } from "../src/config/validation-memo.js";
import { CLI, createTestState, isOneLineError, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { GATEWAY_TOKEN } from "./helpers/gateway.js";
import { afterEach, beforeEach, test } from "./helpers/test.js";

let state: TestState;
beforeEach(async () => {
  state = await createTestState();
});
afterEach(() => state.cleanup());

const memoFile = () => path.join(state.stateDir, "cache", "validated.json");

/** A validator that counts its runs and returns `result(document)`. */
function counting(result: (document: unknown) => unknown = (document) => structuredClone(document)) {
  const counter = {
    runs: 0,
    validate: (document: unknown) => async () => {
      counter.runs++;
      return result(document);
    },
  };
  return counter;
}

test("a document accepted as it was is not validated again; any other document is", async () => {
  const validator = counting();
  const document = { gateway: { port: 1234 } };
  assert.deepEqual(await new ValidationMemo(memoFile()).validate("config", document, validator.validate(document)), document);
  // A later process, with a memo of its own reading the same file.
  const later = new ValidationMemo(memoFile());
  assert.deepEqual(await later.validate("config", { gateway: { port: 1234 } }, validator.validate(document)), document);
  assert.equal(validator.runs, 1);
  await later.validate("config", { gateway: { port: 1235 } }, validator.validate({ gateway: { port: 1235 } }));
  await later.validate("credentials", document, validator.validate(document));
  assert.equal(validator.runs, 3);
  assert.equal((await stat(memoFile())).mode & 0o777, 0o600);
});

test("a document the schema changed (a key dropped, a default added) is validated every time", async () => {
  const validator = counting(() => ({ version: 1, profiles: {} }));
  const document = { version: 1, profiles: {}, unknown: true };
  for (let i = 0; i < 2; i++) await new ValidationMemo(memoFile()).validate("credentials", document, validator.validate(document));
  assert.equal(validator.runs, 2);
});

test("a failed validation is not remembered: the same document fails again with the same error", async () => {
  const memo = new ValidationMemo(memoFile());
  const failing = async () => {
    throw new Error("config is invalid");
  };
  await assert.rejects(memo.validate("config", { bad: true }, failing), /config is invalid/);
  await assert.rejects(new ValidationMemo(memoFile()).validate("config", { bad: true }, failing), /config is invalid/);
});

/** Run `openclaw gateway` until it listens (then stop it) or exits. */
function tryStart(): Promise<{ code: number | null; stderr: string; started: boolean }> {
  const child = spawn(process.execPath, [CLI, "gateway", "--port", "0"], {
    env: { ...state.env, OPENCLAW_GATEWAY_TOKEN: GATEWAY_TOKEN },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  let started = false;
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
    if (!started && /listening on/.test(stderr)) {
      started = true;
      child.kill("SIGTERM");
    }
  });
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stderr, started })));
}

test("after the gateway started on a config, an edited invalid one stops it with the message it gives without a memo", async () => {
  await writeConfig(state, { gateway: { bind: "loopback" } });
  assert.equal((await tryStart()).started, true);
  assert.ok((await stat(memoFile())).isFile(), "the accepted config was remembered");

  await writeConfig(state, { gateway: { bind: "loopback", bindd: "lan" } });
  const withMemo = await tryStart();
  await rm(memoFile());
  const withoutMemo = await tryStart();
  assert.equal(withMemo.started, false);
  assert.notEqual(withMemo.code, 0);
  assert.ok(isOneLineError(withMemo.stderr), withMemo.stderr);
  assert.match(withMemo.stderr, /bindd/);
  assert.equal(withMemo.stderr, withoutMemo.stderr);
});

test("after the gateway started with a credential store, a malformed edit of it stops the gateway", async () => {
  await runCli(state, ["models", "auth", "paste-token", "--provider", "chutes"], { input: "cpk_memo_test_key_0000000000\n" });
  assert.equal((await tryStart()).started, true);
  await writeFile(
    state.authProfilesPath,
    JSON.stringify({ version: 1, profiles: { "chutes:manual": { type: "api_key", provider: "chutes", key: "" } } }),
  );
  const result = await tryStart();
  assert.equal(result.started, false);
  assert.ok(isOneLineError(result.stderr), result.stderr);
  assert.match(result.stderr, /credential store .* is malformed at profiles\.chutes:manual\.key/);
});
