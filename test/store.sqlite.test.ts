import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { SqliteStore } from "../src/store/sqlite-store.js";
import { test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

const turn = (sessionKey: string, at: number) => ({
  sessionKey,
  agentId: "main",
  model: "chutes/x",
  endpoint: "chat.completions",
  input: [{ role: "user", content: "hi" }],
  output: { role: "assistant", content: "hello" },
  usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
  cost: 0.001,
  status: "ok" as const,
  at,
});

test("a busy database never throws out of flush; the batch is written once it is free", async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), "openclaw-store-"));
  const file = path.join(dir, "openclaw.db");
  const store = new SqliteStore(file, { flushDelayMs: 5 });
  const errors: Error[] = [];
  store.onWriteError = (error) => errors.push(error);
  const other = new Database(file);
  other.exec("BEGIN IMMEDIATE");
  try {
    store.recordTurn(turn("s1", 1));
    assert.doesNotThrow(() => store.flush());
    other.exec("COMMIT");
    // Read through another connection: reading through the store would flush the batch itself.
    const reader = new Database(file, { readonly: true });
    try {
      await waitUntil(() => reader.prepare("SELECT turns FROM sessions WHERE key = 's1'").get(), { what: "the retried batch" });
    } finally {
      reader.close();
    }
    assert.deepEqual(errors, []);
    assert.equal(store.getSession("s1")?.session.turns, 1);
  } finally {
    other.close();
    store.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test("turns of one session in a batch add up", async () => {
  const store = new SqliteStore(":memory:");
  for (let i = 0; i < 3; i++) store.recordTurn(turn("s2", i));
  store.recordTurn(turn("s3", 9));
  const session = store.getSession("s2")?.session;
  assert.equal(session?.turns, 3);
  assert.equal(session?.promptTokens, 9);
  assert.equal(session?.createdAt, 0);
  assert.equal(session?.updatedAt, 2);
  assert.equal(store.listSessions().length, 2);
  store.close();
});
