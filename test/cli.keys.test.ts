import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { KeyIndex } from "../src/store/key-index.js";
import { LocalKeyStore } from "../src/store/key-store-file.js";
import { createTestState, isOneLineError, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { type FakeUpstream, startFakeChutes } from "./helpers/fake-upstream.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

let chutes: FakeUpstream;
let state: TestState;
before(async () => {
  chutes = await startFakeChutes();
});
after(() => chutes.close());
beforeEach(async () => {
  state = await createTestState({ CHUTES_API_KEY: "cpk_FAKE-test-key-not-a-real-credential.0000.a1b2" });
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: {
      defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" }, models: { "chutes/Qwen/Qwen3-32B-TEE": { alias: "qwen" } } },
      list: [{ id: "main", default: true }, { id: "ops" }],
    },
  });
});
afterEach(() => state.cleanup());

const keysFile = () => path.join(state.stateDir, "keys.json");
const secretPart = (secret: string) => secret.split("_")[2] ?? "";

async function create(...args: string[]): Promise<string> {
  const result = await runCli(state, ["keys", "create", ...args]);
  assert.equal(result.code, 0, result.stderr);
  return result.stdout.trim();
}

test("keys create prints the key once with a warning; the stored bytes never contain it", async () => {
  const result = await runCli(state, ["keys", "create", "--name", "webui", "--models", "qwen", "--rpm", "5", "--budget", "0.5"]);
  assert.equal(result.code, 0, result.stderr);
  const secret = result.stdout.trim();
  assert.match(secret, /^ock_[0-9A-Za-z]{12}_[0-9A-Za-z]{43}$/);
  assert.match(result.stderr, /will not be shown again/);
  await create("--name", "second");
  for (const file of [keysFile(), `${keysFile()}.bak`]) {
    const bytes = await readFile(file);
    assert.ok(!bytes.includes(secretPart(secret)), `${path.basename(file)} holds the secret`);
  }
  assert.equal((await stat(keysFile())).mode & 0o777, 0o600);
  const stored = (await LocalKeyStore.inStateDir(state.stateDir).find("webui"))!;
  assert.deepEqual(stored.models, ["chutes/Qwen/Qwen3-32B-TEE"], "the alias is stored as the ref it names");
  assert.deepEqual(stored.budget, { usd: 0.5, period: "30d" });
  assert.ok(new KeyIndex([stored]).check(secret, Date.now()).ok);
});

test("keys create --json gives the secret in a field, and the record without hash or salt", async () => {
  const body = JSON.parse(await create("--name", "ci", "--agents", "ops", "--tpm", "1000", "--expires", "7d", "--json"));
  assert.match(body.secret, /^ock_/);
  assert.equal(body.key.name, "ci");
  assert.deepEqual(body.key.agents, ["ops"]);
  assert.equal(body.key.hash, undefined);
  assert.equal(body.key.salt, undefined);
  assert.ok(Math.abs(body.key.expiresAt - (Date.now() + 7 * 86_400_000)) < 60_000);
});

test("keys list, list --json and show never print a secret or its hash", async () => {
  const secrets = [await create("--name", "a", "--rpm", "60"), await create("--name", "b", "--budget", "2", "--budget-period", "7d")];
  const stored = await LocalKeyStore.inStateDir(state.stateDir).list();
  const outputs = [
    await runCli(state, ["keys", "list"]),
    await runCli(state, ["keys", "list", "--json"]),
    await runCli(state, ["keys", "show", "a"]),
    await runCli(state, ["keys", "show", "b", "--json"]),
  ];
  for (const output of outputs) {
    assert.equal(output.code, 0, output.stderr);
    for (const secret of secrets) assert.ok(!output.stdout.includes(secretPart(secret)));
    for (const record of stored) assert.ok(!output.stdout.includes(record.hash) && !output.stdout.includes(record.salt));
  }
  assert.match(outputs[0]!.stdout, /^a\s+\S{12}\s+active\s+0\/60/m);
  assert.match(outputs[0]!.stdout, /\$0\/\$2\.00 7d/);
  const listed = JSON.parse(outputs[1]!.stdout).keys;
  assert.deepEqual(
    listed.map((key: { name: string; usage: { spentUsd: number } }) => [key.name, key.usage.spentUsd]),
    [
      ["a", 0],
      ["b", 0],
    ],
  );
});

test("keys update changes and clears limits; revoke makes the key refused", async () => {
  const secret = await create("--name", "app", "--rpm", "5", "--budget", "1", "--models", "qwen");
  const updated = await runCli(state, ["keys", "update", "app", "--rpm", "10", "--no-budget", "--no-models", "--name", "app2", "--json"]);
  assert.equal(updated.code, 0, updated.stderr);
  const key = JSON.parse(updated.stdout).key;
  assert.equal(key.name, "app2");
  assert.equal(key.rpm, 10);
  assert.equal(key.budget, undefined);
  assert.equal(key.models, undefined);
  const period = await runCli(state, ["keys", "update", "app2", "--budget", "3"]);
  assert.equal(period.code, 0, period.stderr);
  const again = await runCli(state, ["keys", "update", "app2", "--budget-period", "1d", "--json"]);
  assert.deepEqual(JSON.parse(again.stdout).key.budget, { usd: 3, period: "1d" });

  const revoked = await runCli(state, ["keys", "revoke", "app2"]);
  assert.equal(revoked.code, 0, revoked.stderr);
  const index = new KeyIndex(await LocalKeyStore.inStateDir(state.stateDir).list());
  assert.deepEqual(index.check(secret, Date.now()), { ok: false, reason: "revoked" });
  const shown = JSON.parse((await runCli(state, ["keys", "show", "app2", "--json"])).stdout);
  assert.equal(shown.key.usage.state, "revoked");
});

test("bad input: one line, a non-zero exit, and the key file untouched", async () => {
  await create("--name", "existing", "--budget", "1");
  const before = await readFile(keysFile());
  const beforeBackup = await readFile(`${keysFile()}.bak`).catch(() => undefined);
  const cases: string[][] = [
    ["create", "--name", "x", "--rpm", "0"],
    ["create", "--name", "x", "--rpm", "ten"],
    ["create", "--name", "x", "--tpm", "1.5"],
    ["create", "--name", "x", "--max-parallel", "-1"],
    ["create", "--name", "x", "--budget", "-1"],
    ["create", "--name", "x", "--budget", "lots"],
    ["create", "--name", "x", "--budget", "1", "--budget-period", "2d"],
    ["create", "--name", "x", "--expires", "5x"],
    ["create", "--name", "x", "--expires", "0d"],
    ["create", "--name", "x", "--models", "chutes/no-such/model"],
    ["create", "--name", "x", "--models", "nowhere/model"],
    ["create", "--name", "x", "--agents", "ghost"],
    ["create", "--name", "existing"],
    ["create", "--name", "bad\nname"],
    ["update", "nope", "--rpm", "5"],
    ["update", "existing", "--rpm", "0"],
    ["update", "existing", "--no-budget", "--budget-period", "7d"],
    ["update", "existing", "--models", "chutes/no-such/model"],
    ["revoke", "nope"],
  ];
  for (const args of cases) {
    const result = await runCli(state, ["keys", ...args]);
    assert.notEqual(result.code, 0, `${args.join(" ")} succeeded`);
    assert.ok(isOneLineError(result.stderr), `${args.join(" ")}: ${result.stderr}`);
    assert.equal(result.stdout, "", args.join(" "));
  }
  assert.deepEqual(await readFile(keysFile()), before);
  assert.deepEqual(await readFile(`${keysFile()}.bak`).catch(() => undefined), beforeBackup);
});
