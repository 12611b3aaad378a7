import assert from "node:assert/strict";
import path from "node:path";
import Database from "better-sqlite3";
import { openStateStore } from "../src/store/sqlite-store.js";
import { createTestState, writeConfig } from "./helpers/cli.js";
import { startFakeChutes } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

const DAY = 86_400_000;

test("the gateway applies gateway.sessions.retentionDays to the session database at start", async () => {
  const chutes = await startFakeChutes();
  const state = await createTestState({ CHUTES_API_KEY: "cpk_retention_test_key_000000" });
  let gateway: RunningGateway | undefined;
  try {
    const store = openStateStore(state.stateDir);
    for (const [key, age] of [
      ["ten-days-old", 10 * DAY],
      ["yesterday", DAY],
    ] as const) {
      store.recordTurn({
        sessionKey: key,
        agentId: "main",
        model: "chutes/x",
        endpoint: "chat.completions",
        input: [{ role: "user", content: "hi" }],
        output: null,
        usage: null,
        cost: null,
        status: "ok",
        at: Date.now() - age,
      });
    }
    store.close();
    // Five days, not the 30-day default: only the configured setting removes the ten-day-old session.
    await writeConfig(state, {
      models: { providers: { chutes: { baseUrl: chutes.url } } },
      agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
      gateway: { sessions: { retentionDays: 5 } },
    });
    gateway = await startGateway(state);
    const db = new Database(path.join(state.stateDir, "openclaw.db"), { readonly: true });
    try {
      const keys = () => (db.prepare("SELECT key FROM sessions ORDER BY key").all() as Array<{ key: string }>).map((row) => row.key);
      await waitUntil(() => keys().length === 1, { what: "the retention pass at start" });
      assert.deepEqual(keys(), ["yesterday"]);
    } finally {
      db.close();
    }
  } finally {
    await gateway?.stop();
    await chutes.close();
    await state.cleanup();
  }
});
