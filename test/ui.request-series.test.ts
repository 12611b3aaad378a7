import assert from "node:assert/strict";
import path from "node:path";
import { SqliteStore } from "../src/store/sqlite-store.js";
import { WorkerStore } from "../src/store/worker-store.js";
import { createTestState, type TestState } from "./helpers/cli.js";
import { requestRecord } from "./helpers/ledger.js";
import { afterEach, beforeEach, test } from "./helpers/test.js";

let state: TestState;
beforeEach(async () => {
  state = await createTestState();
});
afterEach(() => state.cleanup());

const MINUTE = 60_000;
// Recent (the writer's retention pass keeps them), on a minute boundary.
const START = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;

const row = requestRecord;

test("requestSeries buckets the ledger: totals and nearest-rank p50/p99 per bucket, empty buckets as zeros", () => {
  const store = new SqliteStore(path.join(state.stateDir, "openclaw.db"));
  try {
    // Bucket 0: latencies 1..100 ms (p50 = 50, p99 = 99), two of them errors.
    for (let latency = 1; latency <= 100; latency++)
      store.recordRequest(row(START + latency * 10, { latencyMs: latency, ...(latency <= 2 ? { status: "error", cost: null } : {}) }));
    // Bucket 2: one request; bucket 1 stays empty. A row before and one at `until` are outside.
    store.recordRequest(row(START + 2 * MINUTE + 5, { latencyMs: 7, promptTokens: 3, completionTokens: null, cost: 0.5 }));
    store.recordRequest(row(START - 1));
    store.recordRequest(row(START + 3 * MINUTE));
    const points = store.requestSeries({ since: START, until: START + 3 * MINUTE, bucketMs: MINUTE });
    assert.deepEqual(
      points.map((point) => point.start),
      [START, START + MINUTE, START + 2 * MINUTE],
    );
    const [first, empty, last] = points;
    assert.equal(first?.requests, 100);
    assert.equal(first?.errors, 2);
    assert.equal(first?.p50LatencyMs, 50);
    assert.equal(first?.p99LatencyMs, 99);
    assert.equal(first?.promptTokens, 1000);
    assert.equal(first?.completionTokens, 500);
    assert.ok(Math.abs((first?.cost ?? 0) - 0.098) < 1e-9);
    assert.deepEqual(empty, {
      start: START + MINUTE,
      requests: 0,
      errors: 0,
      promptTokens: 0,
      completionTokens: 0,
      cost: 0,
      p50LatencyMs: null,
      p99LatencyMs: null,
    });
    assert.equal(last?.requests, 1);
    assert.equal(last?.p50LatencyMs, 7);
    assert.equal(last?.p99LatencyMs, 7);
    assert.equal(last?.completionTokens, 0);
    assert.equal(last?.cost, 0.5);
  } finally {
    store.close();
  }
});

test("requestSeries refuses more buckets than a chart can use", () => {
  const store = new SqliteStore(path.join(state.stateDir, "openclaw.db"));
  try {
    assert.throws(() => store.requestSeries({ since: 0, until: 1001 * MINUTE, bucketMs: MINUTE }), /at most 1000 buckets/);
    assert.throws(() => store.requestSeries({ since: START, until: START, bucketMs: MINUTE }), /until > since/);
  } finally {
    store.close();
  }
});

test("the gateway's store answers requestSeries and session reads on its writer thread, including records still queued", async () => {
  const store = await WorkerStore.open(state.stateDir);
  try {
    store.recordRequest(row(START + 5, { latencyMs: 42 }));
    store.recordTurn({
      sessionKey: "series-session",
      agentId: "main",
      model: "chutes/a",
      endpoint: "chat.completions",
      input: [{ role: "user", content: "hello 50%_ off" }],
      output: { role: "assistant", content: "hi" },
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      cost: 0,
      status: "ok",
      at: START + 6,
    });
    const points = await store.requestSeries({ since: START, until: START + MINUTE, bucketMs: MINUTE });
    assert.equal(points[0]?.requests, 1);
    assert.equal(points[0]?.p50LatencyMs, 42);
    assert.deepEqual(
      (await store.listSessions({ text: "SERIES" })).map((session) => session.key),
      ["series-session"],
    );
    // LIKE wildcards in the filter are literal text.
    assert.deepEqual(await store.listSessions({ text: "%" }), []);
    assert.deepEqual(await store.listSessions({ text: "series", agentId: "other" }), []);
    const transcript = await store.getSession("series-session");
    assert.equal(transcript?.turns[0]?.output?.content, "hi");
    assert.equal(await store.getSession("missing"), undefined);
  } finally {
    await store.close();
  }
});
