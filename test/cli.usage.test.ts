import assert from "node:assert/strict";
import { csvField } from "../src/cli/commands/usage.js";
import { LocalKeyStore } from "../src/store/key-store-file.js";
import type { RequestRecord } from "../src/store/usage-ledger.js";
import { WorkerStore } from "../src/store/worker-store.js";
import { createTestState, isOneLineError, runCli, type TestState } from "./helpers/cli.js";
import { afterEach, beforeEach, test } from "./helpers/test.js";

let state: TestState;
let ids: { webui: string; ci: string };
const NOW = Date.now();
const HOUR = 3_600_000;

const row = (fields: Partial<RequestRecord> & Pick<RequestRecord, "requestId" | "at">): RequestRecord => ({
  agentId: "main",
  keyId: null,
  model: "chutes/Qwen/Qwen3-32B-TEE",
  provider: "chutes",
  endpoint: "chat.completions",
  status: "ok",
  promptTokens: 1000,
  completionTokens: 200,
  cachedTokens: null,
  cost: 0.000187,
  latencyMs: 120,
  sessionKey: null,
  stream: true,
  ...fields,
});

beforeEach(async () => {
  state = await createTestState();
  const keys = LocalKeyStore.inStateDir(state.stateDir);
  // Created before the seeded requests: a budget period starts when its key was created.
  const created = NOW - 20 * 86_400_000;
  ids = {
    webui: (await keys.create("open webui", { budget: { usd: 1, period: "7d" } }, created)).record.id,
    ci: (await keys.create("ci", {}, created)).record.id,
  };
  // Seeded through the gateway's own store (writer thread), as the gateway records requests.
  const store = await WorkerStore.open(state.stateDir);
  store.recordRequest(row({ requestId: "a", at: NOW - 2 * HOUR, keyId: ids.webui, cachedTokens: 300 }));
  store.recordRequest(
    row({ requestId: "b", at: NOW - HOUR, keyId: ids.webui, model: "huggingface/Qwen/Qwen3-8B", provider: "huggingface", cost: 0.01 }),
  );
  store.recordRequest(
    row({ requestId: "c", at: NOW - HOUR, keyId: ids.ci, status: "error", promptTokens: null, completionTokens: null, cost: null }),
  );
  store.recordRequest(row({ requestId: "d", at: NOW - 10 * 86_400_000, keyId: ids.ci, cost: 5 }));
  store.recordRequest(row({ requestId: "e", at: NOW - HOUR, agentId: "ops" }));
  // In the key's previous 7-day budget period (periods start at created + 14 d): not this period's spend.
  store.recordRequest(row({ requestId: "f", at: NOW - 10 * 86_400_000, keyId: ids.webui, cost: 5 }));
  await store.close();
});
afterEach(() => state.cleanup());

test("usage --by key --json: totals per key over the last 7 days, named, the gateway token's as null", async () => {
  const result = await runCli(state, ["usage", "--by", "key", "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const body = JSON.parse(result.stdout);
  assert.equal(body.by, "key");
  const rows = body.rows.map((r: Record<string, unknown>) => [
    r.name,
    r.requests,
    r.errors,
    r.promptTokens,
    r.completionTokens,
    r.cachedTokens,
  ]);
  assert.deepEqual(rows, [
    ["open webui", 2, 0, 2000, 400, 300],
    [null, 1, 0, 1000, 200, 0],
    ["ci", 1, 1, 0, 0, 0],
  ]);
  assert.ok(Math.abs(body.rows[0].cost - 0.010187) < 1e-12);
});

test("usage --since 30d includes older requests; --key narrows to one key by name", async () => {
  const all = JSON.parse((await runCli(state, ["usage", "--since", "30d", "--json"])).stdout);
  assert.equal(all.rows.find((r: { name: string }) => r.name === "ci").requests, 2);
  const one = JSON.parse((await runCli(state, ["usage", "--by", "model", "--key", "open webui", "--json"])).stdout);
  assert.deepEqual(
    one.rows.map((r: { group: string; requests: number }) => [r.group, r.requests]),
    [
      ["huggingface/Qwen/Qwen3-8B", 1],
      ["chutes/Qwen/Qwen3-32B-TEE", 1],
    ],
  );
});

test("usage --csv: a header, one line per group, CRLF, fields quoted when they must be", async () => {
  const result = await runCli(state, ["usage", "--by", "agent", "--csv"]);
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.split("\r\n");
  assert.equal(lines[0], "agent,requests,errors,prompt_tokens,completion_tokens,cached_tokens,cost_usd,p50_latency_ms");
  assert.match(lines[1] ?? "", /^main,3,1,2000,400,300,0\.0101\d*,120$/);
  assert.equal(lines[2], "ops,1,0,1000,200,0,0.000187,120");
  assert.equal(lines[3], "");
  const byKey = (await runCli(state, ["usage", "--by", "key", "--csv"])).stdout.split("\r\n");
  assert.equal(byKey[0], "key,name,requests,errors,prompt_tokens,completion_tokens,cached_tokens,cost_usd,p50_latency_ms");
  assert.ok(byKey[1]?.startsWith(`${ids.webui},open webui,2,`));
  assert.equal(csvField('a,"b"\nc'), '"a,""b""\nc"');
  assert.equal(csvField(null), "");
});

test("usage table by day, and bad flags as one line with a non-zero exit", async () => {
  const table = await runCli(state, ["usage", "--by", "provider"]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /^PROVIDER\s+REQUESTS/);
  assert.match(table.stdout, /^huggingface\s+1\s/m);
  for (const args of [
    ["--by", "team"],
    ["--since", "yesterday"],
    ["--since", "1d", "--until", "2d"],
    ["--json", "--csv"],
    ["--key", "ghost"],
  ]) {
    const result = await runCli(state, ["usage", ...args]);
    assert.notEqual(result.code, 0, args.join(" "));
    assert.ok(isOneLineError(result.stderr), `${args.join(" ")}: ${result.stderr}`);
  }
});

test("keys list shows each key's spend in its current budget period from the ledger", async () => {
  const result = await runCli(state, ["keys", "list", "--json"]);
  const webui = JSON.parse(result.stdout).keys.find((key: { name: string }) => key.name === "open webui");
  assert.ok(Math.abs(webui.usage.spentUsd - 0.010187) < 1e-12);
  assert.match((await runCli(state, ["keys", "list"])).stdout, /\$0\.01\/\$1\.00 7d/);
});
