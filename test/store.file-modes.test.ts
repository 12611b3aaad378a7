import assert from "node:assert/strict";
import { chmod, mkdir, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { openStateStore } from "../src/store/sqlite-store.js";
import { createTestState, writeConfig } from "./helpers/cli.js";
import { completion, startFakeChutes } from "./helpers/fake-upstream.js";
import { type RunningGateway, startGateway } from "./helpers/gateway.js";
import { test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

const modeOf = async (file: string) => (await stat(file)).mode & 0o777;

async function dbFileModes(stateDir: string): Promise<Record<string, string>> {
  const names = (await readdir(stateDir)).filter((name) => name.startsWith("openclaw.db"));
  const modes: Record<string, string> = {};
  for (const name of names) {
    try {
      modes[name] = (await modeOf(path.join(stateDir, name))).toString(8);
    } catch (error) {
      // SQLite's rollback journal lives only while the writer sets the new database up (then WAL).
      if ((error as { code?: string }).code !== "ENOENT") throw error;
    }
  }
  return modes;
}

test("the session database and its -wal/-shm are 0600 even in a pre-existing 0755 state dir", async () => {
  const state = await createTestState();
  try {
    await mkdir(state.stateDir, { mode: 0o755 });
    await chmod(state.stateDir, 0o755);
    const store = openStateStore(state.stateDir);
    store.recordTurn({
      sessionKey: "s",
      agentId: "main",
      model: "chutes/x",
      endpoint: "chat.completions",
      input: [{ role: "user", content: "a private prompt" }],
      output: null,
      usage: null,
      cost: null,
      status: "ok",
      at: 1,
    });
    store.flush();
    const modes = await dbFileModes(state.stateDir);
    store.close();
    assert.ok(modes["openclaw.db-wal"] && modes["openclaw.db-shm"], `WAL files exist while open: ${JSON.stringify(modes)}`);
    assert.deepEqual(
      Object.values(modes),
      Object.keys(modes).map(() => "600"),
      JSON.stringify(modes),
    );
  } finally {
    await state.cleanup();
  }
});

test("an existing world-readable database is made 0600 when opened", async () => {
  const state = await createTestState();
  try {
    openStateStore(state.stateDir).close();
    for (const suffix of ["", "-wal", "-shm"]) {
      await writeFile(path.join(state.stateDir, `openclaw.db${suffix}`), "", { flag: "a" });
      await chmod(path.join(state.stateDir, `openclaw.db${suffix}`), 0o644);
    }
    const store = openStateStore(state.stateDir);
    const modes = await dbFileModes(state.stateDir);
    store.close();
    assert.deepEqual(
      Object.values(modes),
      Object.keys(modes).map(() => "600"),
      JSON.stringify(modes),
    );
  } finally {
    await state.cleanup();
  }
});

test("the gateway, started in a 0755 state dir, keeps its session database 0600", async () => {
  const chutes = await startFakeChutes();
  const state = await createTestState({ CHUTES_API_KEY: "cpk_modes_test_key_000000" });
  let gateway: RunningGateway | undefined;
  try {
    await mkdir(state.stateDir, { mode: 0o755 });
    await chmod(state.stateDir, 0o755);
    await writeConfig(state, {
      models: { providers: { chutes: { baseUrl: chutes.url } } },
      agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
    });
    chutes.route("POST /chat/completions", (request) => ({ body: completion("ok", (request.body as { model: string }).model) }));
    gateway = await startGateway(state);
    await gateway.client().chat.completions.create({ model: "openclaw", messages: [{ role: "user", content: "secret prompt" }] });
    const modes = await waitUntil(
      async () => {
        const found = await dbFileModes(state.stateDir);
        return found["openclaw.db-wal"] ? found : undefined;
      },
      { what: "the WAL file" },
    );
    assert.deepEqual(
      Object.values(modes),
      Object.keys(modes).map(() => "600"),
      JSON.stringify(modes),
    );
  } finally {
    await gateway?.stop();
    await chutes.close();
    await state.cleanup();
  }
});
