import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import path from "node:path";
import Database from "better-sqlite3";
import { RetentionTask } from "../src/store/retention.js";
import { SqliteStore } from "../src/store/sqlite-store.js";
import type { RequestRecord } from "../src/store/usage-ledger.js";
import { WorkerStore } from "../src/store/worker-store.js";
import { createTestState, type TestState } from "./helpers/cli.js";
import { readTable, requestRecord } from "./helpers/ledger.js";
import { afterEach, beforeEach, test } from "./helpers/test.js";

let state: TestState;
beforeEach(async () => {
  state = await createTestState();
});
afterEach(() => state.cleanup());

// Recent (the writer's retention pass must keep them), at a fixed UTC day boundary.
const DAY = 86_400_000;
const DAY1 = Math.floor(Date.now() / DAY) * DAY - 2 * DAY;
const DAY2 = DAY1 + DAY;

const row = ({ at, ...fields }: Partial<RequestRecord> & Pick<RequestRecord, "requestId" | "at">): RequestRecord =>
  requestRecord(at, fields);

const SEED: RequestRecord[] = [
  row({ requestId: "r1", at: DAY1 + 1, keyId: "keyA", latencyMs: 10, cachedTokens: 4 }),
  row({ requestId: "r2", at: DAY1 + 2, keyId: "keyA", latencyMs: 30, model: "huggingface/b", provider: "huggingface", cost: 0.01 }),
  row({
    requestId: "r3",
    at: DAY2 + 1,
    keyId: "keyA",
    latencyMs: 20,
    status: "error",
    promptTokens: null,
    completionTokens: null,
    cost: null,
  }),
  row({ requestId: "r4", at: DAY2 + 2, keyId: "keyB", latencyMs: 50, agentId: "ops", cost: 0.5 }),
  row({ requestId: "r5", at: DAY2 + 3, latencyMs: 70 }),
];

test("the writer thread aggregates the ledger per key: sums, errors, median latency, biggest cost first", async () => {
  const store = await WorkerStore.open(state.stateDir);
  try {
    for (const record of SEED) store.recordRequest(record);
    const rows = await store.aggregateRequests({ by: "key" });
    assert.deepEqual(
      rows.map((r) => [r.group, r.requests, r.errors, r.promptTokens, r.completionTokens, r.cachedTokens, r.p50LatencyMs]),
      [
        ["keyB", 1, 0, 10, 5, 0, 50],
        ["keyA", 3, 1, 20, 10, 4, 20],
        [null, 1, 0, 10, 5, 0, 70],
      ],
    );
    assert.ok(Math.abs((rows[1]?.cost ?? 0) - 0.011) < 1e-12);
    assert.equal(
      readTable<{ key_id: string | null }>(state.stateDir, "SELECT key_id FROM requests WHERE request_id = 'r4'")[0]?.key_id,
      "keyB",
    );
  } finally {
    await store.close();
  }
});

test("grouping by model, provider, agent and UTC day; since/until and one key", async () => {
  const store = await WorkerStore.open(state.stateDir);
  try {
    for (const record of SEED) store.recordRequest(record);
    const groups = async (query: Parameters<WorkerStore["aggregateRequests"]>[0]) =>
      (await store.aggregateRequests(query)).map((r) => [r.group, r.requests]);
    assert.deepEqual(await groups({ by: "model" }), [
      ["chutes/a", 4],
      ["huggingface/b", 1],
    ]);
    assert.deepEqual(await groups({ by: "provider" }), [
      ["chutes", 4],
      ["huggingface", 1],
    ]);
    assert.deepEqual(await groups({ by: "agent" }), [
      ["ops", 1],
      ["main", 4],
    ]);
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    assert.deepEqual(await groups({ by: "day" }), [
      [day(DAY1), 2],
      [day(DAY2), 3],
    ]);
    assert.deepEqual(await groups({ by: "day", since: DAY1 + 2, until: DAY2 + 2 }), [
      [day(DAY1), 1],
      [day(DAY2), 1],
    ]);
    assert.deepEqual(await groups({ by: "model", keyId: "keyA" }), [
      ["huggingface/b", 1],
      ["chutes/a", 2],
    ]);
  } finally {
    await store.close();
  }
});

test("a database from before keys gains the key column: old rows read as the gateway token's, new rows keep their key", async () => {
  const file = path.join(state.stateDir, "openclaw.db");
  mkdirSync(state.stateDir, { recursive: true });
  const old = new Database(file);
  old.exec(`CREATE TABLE requests (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, request_id TEXT NOT NULL,
    agent_id TEXT, model TEXT, provider TEXT, endpoint TEXT NOT NULL, status TEXT NOT NULL, error TEXT, prompt_tokens INTEGER,
    completion_tokens INTEGER, cached_tokens INTEGER, cost REAL, latency_ms REAL NOT NULL, session_key TEXT, stream INTEGER NOT NULL)`);
  old
    .prepare("INSERT INTO requests (at, request_id, endpoint, status, cost, latency_ms, stream) VALUES (?, 'old', 'x', 'ok', 0.25, 5, 0)")
    .run(DAY1);
  old.close();
  const store = new SqliteStore(file);
  try {
    store.recordRequest(row({ requestId: "new", at: DAY2, keyId: "keyA", cost: 0.75 }));
    assert.deepEqual(
      store.aggregateRequests({ by: "key" }).map((r) => [r.group, r.cost]),
      [
        ["keyA", 0.75],
        [null, 0.25],
      ],
    );
    assert.equal(store.queryRequests({ keyId: "keyA" })[0]?.requestId, "new");
  } finally {
    store.close();
  }
});

test("a key's lifetime spend outlives ledger retention; a period's spend is summed from the ledger", async () => {
  const store = new SqliteStore(path.join(state.stateDir, "openclaw.db"));
  try {
    const old = Date.now() - 40 * DAY;
    store.recordRequest(row({ requestId: "old", at: old, keyId: "keyA", cost: 2 }));
    store.recordRequest(row({ requestId: "new", at: DAY2, keyId: "keyA", cost: 0.5 }));
    store.recordRequest(row({ requestId: "operator", at: DAY2, cost: 7 }));
    assert.equal(store.keySpend("keyA", 0), 2.5);
    const report = await new RetentionTask(store.db, { retentionDays: 30 }).runPass();
    assert.equal(report.requests, 1);
    assert.equal(store.keySpend("keyA", 0), 2.5, "a total budget must not forget spend older than the ledger keeps");
    assert.equal(store.keySpend("keyA", DAY1), 0.5);
    assert.equal(store.keySpend("keyB", 0), 0);
  } finally {
    store.close();
  }
});
