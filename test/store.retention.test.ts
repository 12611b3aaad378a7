import assert from "node:assert/strict";
import { statSync } from "node:fs";
import path from "node:path";
import type { TurnRecord } from "../src/store/session-store.js";
import { openStateStore, type SqliteStore } from "../src/store/sqlite-store.js";
import type { RequestRecord } from "../src/store/usage-ledger.js";
import { createTestState, type TestState } from "./helpers/cli.js";
import { test } from "./helpers/test.js";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 22);
const HOUR = 3_600_000;

const turn = (sessionKey: string, at: number, text = "hi"): TurnRecord => ({
  sessionKey,
  agentId: "main",
  model: "chutes/x",
  endpoint: "chat.completions",
  input: [{ role: "user", content: text }],
  output: { role: "assistant", content: "ok" },
  usage: null,
  cost: null,
  status: "ok",
  at,
});

const saveResponse = (store: SqliteStore, id: string, at: number, text = "hi") =>
  store.saveResponse({
    id,
    agentId: "main",
    createdAt: Math.floor(at / 1000),
    response: { id },
    history: [{ role: "user", content: text }],
    output: [],
  });

async function withStore(body: (store: SqliteStore, state: TestState) => Promise<void>): Promise<void> {
  const state = await createTestState();
  const store = openStateStore(state.stateDir);
  try {
    await body(store, state);
  } finally {
    store.close();
    await state.cleanup();
  }
}

/** A maintenance task with a fixed clock and no periodic pass of its own: the test runs passes. */
const maintain = (store: SqliteStore, settings: { retentionDays?: number; maxDatabaseMb?: number }) => {
  const task = store.startMaintenance(settings, { now: () => NOW, intervalMs: HOUR });
  return task;
};

const request = (requestId: string, at: number): RequestRecord => ({
  requestId,
  at,
  agentId: "main",
  model: "chutes/x",
  provider: "chutes",
  endpoint: "chat.completions",
  status: "ok",
  promptTokens: 1,
  completionTokens: 1,
  cachedTokens: null,
  cost: null,
  latencyMs: 1,
  sessionKey: null,
  stream: false,
});

test("turns, sessions, stored responses and ledger rows older than retentionDays go; newer ones stay", async () => {
  await withStore(async (store) => {
    store.recordTurn(turn("idle", NOW - 40 * DAY));
    store.recordTurn(turn("idle", NOW - 31 * DAY));
    store.recordTurn(turn("active", NOW - 35 * DAY));
    store.recordTurn(turn("active", NOW - 2 * DAY));
    store.recordTurn(turn("fresh", NOW - 1000));
    saveResponse(store, "resp_old", NOW - 31 * DAY);
    saveResponse(store, "resp_new", NOW - 29 * DAY);
    store.recordRequest(request("req_old", NOW - 31 * DAY));
    store.recordRequest(request("req_new", NOW - 29 * DAY));
    store.flush();
    const report = await maintain(store, { retentionDays: 30 }).runPass();
    assert.deepEqual(report, { turns: 3, sessions: 1, responses: 1, requests: 1 });
    assert.deepEqual(
      store.queryRequests().map((row) => row.requestId),
      ["req_new"],
    );
    assert.equal(store.getSession("idle"), undefined);
    assert.deepEqual(
      store.getSession("active")?.turns.map((t) => t.at),
      [NOW - 2 * DAY],
    );
    assert.equal(store.getSession("fresh")?.turns.length, 1);
    assert.equal(store.getResponse("resp_old"), undefined);
    assert.ok(store.getResponse("resp_new"));
  });
});

test("past maxDatabaseMb the oldest records go first until the data fits, and the file shrinks", async () => {
  await withStore(async (store, state) => {
    const big = "x".repeat(8 * 1024);
    // About 4 MB of recent turns and responses, interleaved in time.
    for (let i = 0; i < 500; i++) {
      store.recordTurn(turn(`s${i % 10}`, NOW - (1000 - i) * 1000, big));
      if (i % 10 === 0) saveResponse(store, `resp_${i}`, NOW - (1000 - i) * 1000, big);
    }
    store.flush();
    const file = path.join(state.stateDir, "openclaw.db");
    await maintain(store, { retentionDays: 30, maxDatabaseMb: 1 }).runPass();
    const used = (store.db.pragma("page_count", { simple: true }) as number) * (store.db.pragma("page_size", { simple: true }) as number);
    assert.ok(used <= 1024 * 1024, `the database holds ${used} bytes`);
    assert.ok(statSync(file).size <= 1024 * 1024, `the file is ${statSync(file).size} bytes`);
    // The newest survive, the oldest went.
    assert.ok(store.getSession("s9")?.turns.some((t) => t.at === NOW - 501_000));
    assert.equal(store.getResponse("resp_490") !== undefined, true);
    assert.equal(store.getResponse("resp_0"), undefined);
    assert.equal(store.getSession("s0")?.turns.some((t) => t.at === NOW - 1_000_000) ?? false, false);
  });
});

test("a retention pass checkpoints and truncates the WAL", async () => {
  await withStore(async (store, state) => {
    for (let i = 0; i < 200; i++) store.recordTurn(turn("s", NOW - i, "y".repeat(2000)));
    store.flush();
    const wal = path.join(state.stateDir, "openclaw.db-wal");
    assert.ok(statSync(wal).size > 100_000, `the WAL holds the writes: ${statSync(wal).size} bytes`);
    await maintain(store, {}).runPass();
    assert.equal(statSync(wal).size, 0);
    assert.equal(store.getSession("s")?.turns.length, 200);
  });
});

test("a long retention pass deletes in small batches and lets the event loop run between them", async () => {
  await withStore(async (store) => {
    for (let i = 0; i < 5000; i++) store.recordTurn(turn(`s${i % 50}`, NOW - 60 * DAY + i));
    store.flush();
    let ticks = 0;
    let counting = true;
    const tick = () => {
      ticks++;
      if (counting) setImmediate(tick);
    };
    setImmediate(tick);
    const report = await maintain(store, { retentionDays: 30 }).runPass();
    counting = false;
    assert.equal(report.turns, 5000);
    // 5000 turns in batches of at most 256: the loop ran between at least 19 of them.
    assert.ok(ticks >= 19, `only ${ticks} turns of the event loop during the pass`);
  });
});
