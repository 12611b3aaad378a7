import assert from "node:assert/strict";
import { readFile, stat } from "node:fs/promises";
import { KeyIndex, LiveKeyIndex } from "../src/store/key-index.js";
import { KEY_SECRET_LENGTH, keyIdOf } from "../src/store/key-secret.js";
import { LocalKeyStore } from "../src/store/key-store-file.js";
import { createTestState, type TestState } from "./helpers/cli.js";
import { afterEach, beforeEach, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

let state: TestState;
let store: LocalKeyStore;
beforeEach(async () => {
  state = await createTestState();
  store = LocalKeyStore.inStateDir(state.stateDir);
});
afterEach(() => state.cleanup());

const NOW = 1_800_000_000_000;

test("a created key verifies from memory; the store holds only its salted hash, 0600", async () => {
  const { secret, record } = await store.create("app", { rpm: 5 }, NOW);
  assert.match(secret, new RegExp(`^ock_${record.id}_[0-9A-Za-z]{${KEY_SECRET_LENGTH}}$`));
  const text = await readFile(store.file, "utf8");
  assert.ok(!text.includes(secret.slice(`ock_${record.id}_`.length)), "the secret part is stored");
  assert.equal((await stat(store.file)).mode & 0o777, 0o600);
  const index = new KeyIndex(await store.list());
  const check = index.check(secret, NOW);
  assert.ok(check.ok);
  assert.equal(check.key.id, record.id);
});

test("a key with the right id and a wrong secret is unknown, as is a foreign token", async () => {
  const { secret } = await store.create("app", {}, NOW);
  const index = new KeyIndex(await store.list());
  const last = secret.at(-1) === "a" ? "b" : "a";
  assert.deepEqual(index.check(`${secret.slice(0, -1)}${last}`, NOW), { ok: false, reason: "unknown" });
  assert.deepEqual(index.check("sk-operator-token", NOW), { ok: false, reason: "unknown" });
  assert.equal(keyIdOf(`${secret}x`), undefined);
});

test("revoked and expired keys are refused with their reason", async () => {
  const revoked = await store.create("old", {}, NOW);
  const expiring = await store.create("temp", { expiresAt: NOW + 1000 }, NOW);
  await store.revoke("old", NOW + 1);
  const index = new KeyIndex(await store.list());
  assert.deepEqual(index.check(revoked.secret, NOW + 2), { ok: false, reason: "revoked" });
  assert.ok(index.check(expiring.secret, NOW + 999).ok);
  assert.deepEqual(index.check(expiring.secret, NOW + 1000), { ok: false, reason: "expired" });
});

test("names are unique among active keys; a revoked key's name can be reused and finds the active one", async () => {
  const first = await store.create("app", {}, NOW);
  await assert.rejects(store.create("app", {}, NOW), /already exists/);
  await store.revoke("app", NOW);
  const second = await store.create("app", {}, NOW);
  assert.equal((await store.find("app"))?.id, second.record.id);
  assert.equal((await store.find(first.record.id))?.revokedAt, NOW);
});

test("update sets, clears (null) and leaves fields; an unknown key writes nothing", async () => {
  await store.create("app", { rpm: 5, tpm: 100, budget: { usd: 1, period: "7d" } }, NOW);
  const updated = await store.update("app", { rpm: 10, tpm: null, name: "app2" });
  assert.equal(updated.rpm, 10);
  assert.equal(updated.tpm, undefined);
  assert.deepEqual(updated.budget, { usd: 1, period: "7d" });
  const before = await readFile(store.file, "utf8");
  await assert.rejects(store.update("nope", { rpm: 1 }), /no key "nope"/);
  assert.equal(await readFile(store.file, "utf8"), before);
});

test("the gateway's live index sees a key another process creates and revokes, without a restart", async () => {
  const live = await LiveKeyIndex.open(store);
  try {
    const cli = LocalKeyStore.inStateDir(state.stateDir);
    const { secret } = await cli.create("late", {}, Date.now());
    await waitUntil(() => live.current.check(secret, Date.now()).ok);
    await cli.revoke("late");
    await waitUntil(() => !live.current.check(secret, Date.now()).ok);
    assert.deepEqual(live.current.check(secret, Date.now()), { ok: false, reason: "revoked" });
  } finally {
    live.close();
  }
});

test("a reload that finds a broken file keeps the keys in force and reports it", async () => {
  const { secret } = await store.create("app", {}, NOW);
  const errors: Error[] = [];
  const live = await LiveKeyIndex.open(store, { onError: (error) => errors.push(error) });
  try {
    const { writeFile } = await import("node:fs/promises");
    await writeFile(store.file, "{ not json");
    await waitUntil(() => errors.length > 0);
    assert.ok(live.current.check(secret, NOW).ok);
  } finally {
    live.close();
  }
});
