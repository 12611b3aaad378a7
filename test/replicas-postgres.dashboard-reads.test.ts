import assert from "node:assert/strict";
import { openPostgresBackends, type PostgresBackends } from "../src/store/postgres/index.js";
import type { TurnRecord } from "../src/store/session-store.js";
import { requestRecord } from "./helpers/ledger.js";
import { type PostgresServer, startPostgres } from "./helpers/postgres-server.js";
import { after, before, test } from "./helpers/test.js";
import { eventually } from "./helpers/wait.js";

// The dashboard's reads (time series, session search) on PostgreSQL give what SQLite gives (ui.request-series.test.ts).
let server: PostgresServer;
let backends: PostgresBackends;
before(async () => {
  server = await startPostgres();
  backends = await openPostgresBackends(await server.createDatabase("dashboard"), { config: {} });
});
after(async () => {
  await backends?.close();
  await server?.destroy();
});

const MINUTE = 60_000;
const START = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;

const row = requestRecord;

test("requestSeries on PostgreSQL: totals and nearest-rank p50/p99 per bucket, empty buckets as zeros", async () => {
  const store = backends.state;
  for (let latency = 1; latency <= 100; latency++)
    store.recordRequest(row(START + latency * 10, { latencyMs: latency, ...(latency <= 2 ? { status: "error", cost: null } : {}) }));
  store.recordRequest(row(START + 2 * MINUTE + 5, { latencyMs: 7, promptTokens: 3, completionTokens: null, cost: 0.5 }));
  store.recordRequest(row(START - 1));
  store.recordRequest(row(START + 3 * MINUTE));
  assert.equal(
    (
      await eventually(
        () => store.queryRequests({ limit: 1000 }),
        (rows) => rows.length === 103,
      )
    ).length,
    103,
  );
  const points = await store.requestSeries({ since: START, until: START + 3 * MINUTE, bucketMs: MINUTE });
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
  assert.ok(Math.abs((first?.cost ?? 0) - 0.098) < 1e-9);
  assert.deepEqual({ requests: empty?.requests, p50: empty?.p50LatencyMs }, { requests: 0, p50: null });
  assert.equal(last?.requests, 1);
  assert.equal(last?.p99LatencyMs, 7);
  assert.throws(() => store.requestSeries({ since: START, until: START + 2000 * MINUTE, bucketMs: MINUTE }), /at most 1000 buckets/);
});

test("listSessions on PostgreSQL filters by text in the key, agent or model, taking % and _ literally", async () => {
  const store = backends.state;
  const turn = (sessionKey: string, model: string): TurnRecord => ({
    sessionKey,
    agentId: "main",
    model,
    endpoint: "chat.completions",
    input: [{ role: "user", content: "hi" }],
    output: { role: "assistant", content: "hello" },
    usage: null,
    cost: null,
    status: "ok",
    at: Date.now(),
  });
  store.recordTurn(turn("support-alice", "chutes/a"));
  store.recordTurn(turn("billing_bob", "hf/Qwen-Coder"));
  store.recordTurn(turn("billingXbob", "chutes/a"));
  assert.equal(
    (
      await eventually(
        () => store.listSessions({}),
        (rows) => rows.length === 3,
      )
    ).length,
    3,
  );
  const keys = async (text: string) => (await store.listSessions({ text })).map((session) => session.key).sort();
  assert.deepEqual(await keys("ALICE"), ["support-alice"]);
  assert.deepEqual(await keys("qwen"), ["billing_bob"]);
  assert.deepEqual(await keys("billing_"), ["billing_bob"]);
  assert.deepEqual(await keys("%"), []);
});
