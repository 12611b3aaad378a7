import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import type { TurnRecord } from "../src/store/session-store.js";
import { openStateStore } from "../src/store/sqlite-store.js";
import { WorkerStore } from "../src/store/worker-store.js";
import { createTestState, type TestState } from "./helpers/cli.js";
import { readTable } from "./helpers/ledger.js";
import { test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

const DAY = 86_400_000;
const turn = (prompt: string, at = Date.now()): TurnRecord => ({
  sessionKey: `session-${prompt}`,
  agentId: "main",
  model: "chutes/x",
  endpoint: "chat.completions",
  input: [{ role: "user", content: prompt }],
  output: null,
  usage: null,
  cost: null,
  status: "ok",
  at,
});

async function withState(body: (state: TestState) => Promise<void>): Promise<void> {
  const state = await createTestState();
  try {
    await body(state);
  } finally {
    await state.cleanup();
  }
}

const sessions = (state: TestState) =>
  readTable<{ key: string }>(state.stateDir, "SELECT key FROM sessions ORDER BY key").map((row) => row.key);

/** A database holding one session last used `ageDays` ago, written directly (no writer thread). */
function seedOldSession(state: TestState, ageDays: number): void {
  const store = openStateStore(state.stateDir);
  store.recordTurn(turn("old", Date.now() - ageDays * DAY));
  store.close();
}

test("the writer thread stops when idle, and the next record starts another that writes it", async () => {
  await withState(async (state) => {
    const store = await WorkerStore.open(state.stateDir, { writerIdleMs: 20, flushDelayMs: 1 });
    try {
      store.recordTurn(turn("first"));
      await waitUntil(() => !store.writerRunning, { what: "the idle writer to stop" });
      store.recordTurn(turn("second"));
      await waitUntil(() => sessions(state).length === 2, { what: "the second record written by a new writer" });
      assert.deepEqual(sessions(state), ["session-first", "session-second"]);
    } finally {
      await store.close();
    }
  });
});

test("close() with the writer stopped starts one to write what is queued", async () => {
  await withState(async (state) => {
    const store = await WorkerStore.open(state.stateDir, { writerIdleMs: 20, flushDelayMs: 3_600_000 });
    await waitUntil(() => !store.writerRunning, { what: "the idle writer to stop" });
    store.recordTurn(turn("queued"));
    await store.close();
    assert.deepEqual(sessions(state), ["session-queued"]);
  });
});

test("without records, maintenance starts the writer for the retention pass only when a database exists", async () => {
  await withState(async (state) => {
    const fresh = WorkerStore.create(state.stateDir, { retention: { retentionDays: 5 } });
    fresh.startMaintenance();
    assert.equal(fresh.writerRunning, false);
    await fresh.close();
    assert.equal(existsSync(path.join(state.stateDir, "openclaw.db")), false);

    seedOldSession(state, 10);
    const used = WorkerStore.create(state.stateDir, { retention: { retentionDays: 5 } });
    try {
      used.startMaintenance();
      assert.equal(used.writerRunning, true);
      await waitUntil(() => sessions(state).length === 0, { what: "the retention pass at start" });
    } finally {
      await used.close();
    }
  });
});

test("a stopped writer is started again each retention interval, so old records go without traffic", async () => {
  await withState(async (state) => {
    const store = WorkerStore.create(state.stateDir, { retention: { retentionDays: 5 }, retentionIntervalMs: 50, writerIdleMs: 20 });
    try {
      store.startMaintenance();
      assert.equal(store.writerRunning, false);
      // Written after the store started, by another connection: only a later pass can remove it.
      seedOldSession(state, 10);
      await waitUntil(() => sessions(state).length === 0, { what: "a retention pass from a woken writer" });
    } finally {
      await store.close();
    }
  });
});
