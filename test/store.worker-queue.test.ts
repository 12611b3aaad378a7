import assert from "node:assert/strict";
import type { TurnRecord } from "../src/store/session-store.js";
import type { RequestRecord } from "../src/store/usage-ledger.js";
import { MAX_IN_FLIGHT, WorkerStore } from "../src/store/worker-store.js";
import { createTestState, type TestState } from "./helpers/cli.js";
import { readTable } from "./helpers/ledger.js";
import { test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

// Recent: the writer's first retention pass must not take them.
const BASE = Date.now();
const turn = (i: number): TurnRecord => ({
  sessionKey: "s",
  agentId: "main",
  model: "chutes/x",
  endpoint: "chat.completions",
  input: [{ role: "user", content: `prompt ${i}` }],
  output: null,
  usage: null,
  cost: null,
  status: "ok",
  at: BASE + i,
});

const request = (i: number): RequestRecord => ({
  requestId: `req_${i}`,
  at: BASE + i,
  agentId: "main",
  model: "chutes/x",
  provider: "chutes",
  endpoint: "chat.completions",
  status: "ok",
  promptTokens: i,
  completionTokens: 1,
  cachedTokens: null,
  cost: null,
  latencyMs: 1,
  sessionKey: null,
  stream: false,
});

async function withState(body: (state: TestState) => Promise<void>): Promise<void> {
  const state = await createTestState();
  try {
    await body(state);
  } finally {
    await state.cleanup();
  }
}

const turnsAt = (state: TestState) =>
  readTable<{ at: number }>(state.stateDir, "SELECT at FROM turns ORDER BY id").map((row) => row.at - BASE);

test("a writer that falls behind makes the queue drop its oldest records, counted, instead of growing", async () => {
  await withState(async (state) => {
    const store = await WorkerStore.open(state.stateDir, { maxQueued: 200 });
    const reported: number[] = [];
    store.onDropped = (count) => reported.push(count);
    // One tick: the writer's answers cannot arrive, so everything past the bound is a backlog.
    for (let i = 0; i < 1000; i++) store.recordTurn(turn(i));
    assert.equal(store.droppedTotal, 800);
    await store.close();
    assert.deepEqual(reported, [800]);
    const stored = turnsAt(state);
    assert.equal(stored.length, 200);
    // What the writer already held stays; of the rest, the newest.
    assert.deepEqual(stored.slice(0, 3), [0, 1, 2]);
    assert.equal(stored.at(-1), 999);
  });
});

test("close() hands over what is still queued and waits until the writer has written it", async () => {
  await withState(async (state) => {
    const store = await WorkerStore.open(state.stateDir, { flushDelayMs: 3_600_000 });
    for (let i = 0; i < 10; i++) store.recordTurn(turn(i));
    store.recordRequest(request(1));
    await store.close();
    assert.equal(turnsAt(state).length, 10);
    assert.equal(readTable(state.stateDir, "SELECT id FROM requests").length, 1);
  });
});

test("the ledger answers queries through the writer, including what was just recorded", async () => {
  await withState(async (state) => {
    const store = await WorkerStore.open(state.stateDir, { flushDelayMs: 3_600_000 });
    try {
      for (let i = 0; i < 3; i++) store.recordRequest(request(i));
      const rows = await store.queryRequests({ since: BASE + 1 });
      assert.deepEqual(
        rows.map((row) => [row.requestId, row.promptTokens, row.stream]),
        [
          ["req_2", 2, false],
          ["req_1", 1, false],
        ],
      );
    } finally {
      await store.close();
    }
  });
});

test("stored responses are saved, read and deleted through the writer; a failure reaches the caller", async () => {
  await withState(async (state) => {
    const store = await WorkerStore.open(state.stateDir);
    try {
      const stored = {
        id: "resp_1",
        agentId: "main",
        createdAt: Math.floor(Date.now() / 1000),
        response: { id: "resp_1" },
        history: [],
        output: [],
      };
      await store.saveResponse(stored);
      // Committed by the time it resolves: another connection sees it.
      assert.equal(readTable(state.stateDir, "SELECT id FROM responses").length, 1);
      assert.deepEqual(await store.getResponse("resp_1"), stored);
      assert.equal(await store.deleteResponse("resp_1"), true);
      assert.equal(await store.getResponse("resp_1"), undefined);
      await assert.rejects(
        store.saveResponse({ ...stored, agentId: null as unknown as string }),
        (error: Error & { code?: string }) => error.code === "SQLITE_CONSTRAINT_NOTNULL",
      );
    } finally {
      await store.close();
    }
  });
});

test("records that waited while the writer held its maximum are handed over once it catches up", async () => {
  await withState(async (state) => {
    const store = await WorkerStore.open(state.stateDir, { flushDelayMs: 5 });
    try {
      // From a timer callback, so that their hand-over timer runs in this same timers phase,
      // before the writer's answers are read (poll phase): it finds the writer full.
      await new Promise<void>((resolve) =>
        setTimeout(() => {
          // The writer holds MAX_IN_FLIGHT; a few more wait, fewer than a batch.
          for (let i = 0; i < MAX_IN_FLIGHT + 10; i++) store.recordTurn(turn(i));
          const until = performance.now() + 50;
          while (performance.now() < until);
          resolve();
        }, 0),
      );
      await waitUntil(() => turnsAt(state).length === MAX_IN_FLIGHT + 10, { what: "every record written" });
    } finally {
      await store.close();
    }
  });
});
