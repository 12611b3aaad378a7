import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { withFileLock } from "../src/shared/atomic-file.js";
import { createTestState, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import { test } from "./helpers/test.js";

const HOLDER = path.join(path.dirname(fileURLToPath(import.meta.url)), "helpers/lock-holder-child.ts");
const HOUR = 3_600_000;

/** Start a process that takes `file`'s lock and stays inside it, half-way through a write. */
async function holdLock(file: string): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, ["--import", "tsx", HOLDER, file], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
  });
  const exited = new Promise((resolve) => child.on("close", resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      if (text.includes("locked")) resolve();
    });
    child.on("close", () => reject(new Error(`the lock holder exited early:\n${stderr}`)));
  });
  return { child, exited };
}

async function leftovers(state: TestState): Promise<string[]> {
  return (await readdir(state.stateDir)).filter((name) => name.endsWith(".tmp") || name.includes(".lock"));
}

test("a lock left by a writer killed mid-write is taken over at once, and its temp file removed", async () => {
  const state = await createTestState();
  try {
    await writeConfig(state, { gateway: { port: 1111 } });
    const { child, exited } = await holdLock(state.configPath);
    child.kill("SIGKILL");
    await exited;
    assert.equal((await leftovers(state)).length, 2, "the killed writer left its lock and its temp file");

    // An hour's stale time: only seeing that the owner is dead can free this lock.
    const ran = await withFileLock(state.configPath, async () => "ran", { staleMs: HOUR, waitMs: 5_000 });
    assert.equal(ran, "ran");
    assert.deepEqual(await leftovers(state), []);
  } finally {
    await state.cleanup();
  }
});

test("config set after a killed config set succeeds and leaves no lock or temp files", async () => {
  const state = await createTestState();
  try {
    await writeConfig(state, { gateway: { port: 1111 } });
    const { child, exited } = await holdLock(state.configPath);
    child.kill("SIGKILL");
    await exited;
    const result = await runCli(state, ["config", "set", "gateway.port", "2222"]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(await readFile(state.configPath, "utf8"), /2222/);
    assert.deepEqual(await leftovers(state), []);
  } finally {
    await state.cleanup();
  }
});

test("a lock held by a live process is respected, whatever its age", async () => {
  const state = await createTestState();
  const { child, exited } = await holdLock(path.join(state.root, "file.json"));
  try {
    let ran = false;
    await assert.rejects(
      withFileLock(
        path.join(state.root, "file.json"),
        async () => {
          ran = true;
        },
        { staleMs: 1, waitMs: 200 },
      ),
      /could not lock .*process \d+ on .* holds it/,
    );
    assert.equal(ran, false);
  } finally {
    child.kill("SIGKILL");
    await exited;
    await state.cleanup();
  }
});

test("concurrent holders in one process take turns: no update is lost", async () => {
  const state = await createTestState();
  try {
    const file = path.join(state.root, "counter.json");
    await writeFile(file, "0");
    await Promise.all(
      Array.from({ length: 20 }, () =>
        withFileLock(file, async () => {
          const value = Number(await readFile(file, "utf8"));
          await new Promise((resolve) => setImmediate(resolve));
          await writeFile(file, String(value + 1));
        }),
      ),
    );
    assert.equal(await readFile(file, "utf8"), "20");
    assert.deepEqual(
      (await readdir(state.root)).filter((name) => name.includes(".lock")),
      [],
    );
  } finally {
    await state.cleanup();
  }
});
