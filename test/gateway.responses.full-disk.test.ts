import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { mkdir, open, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createTestState, type TestState, writeConfig } from "./helpers/cli.js";
import { completion, type FakeUpstream, startFakeChutes, wordStream } from "./helpers/fake-upstream.js";
import { GATEWAY_TOKEN, type RunningGateway, startGateway } from "./helpers/gateway.js";
import { after, before, test } from "./helpers/test.js";
import { waitUntil } from "./helpers/wait.js";

// A real full disk: a tiny tmpfs mounted on the state dir. Mounting needs root (CI runs as root).
function canMountTmpfs(): boolean {
  if (process.getuid?.() !== 0) return false;
  const probe = mkdtempSync(path.join(os.tmpdir(), "openclaw-mount-probe-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", probe], { stdio: "ignore" });
    execFileSync("umount", [probe], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}
const canMount = canMountTmpfs();
const skip = canMount ? false : "needs root allowed to mount a tiny tmpfs as the state dir (CI runs as root)";

let chutes: FakeUpstream;
let state: TestState;
let gateway: RunningGateway;
let mounted = false;
const filler = () => path.join(state.stateDir, "filler");

before(async () => {
  if (!canMount) return;
  chutes = await startFakeChutes();
  chutes.route("POST /chat/completions", (request) => {
    const body = request.body as { stream?: boolean; model: string };
    return body.stream ? { events: wordStream(["Hello", " there"], body.model) } : { body: completion("Hello there", body.model) };
  });
  state = await createTestState({ CHUTES_API_KEY: "cpk_full_disk_test_key_000000" });
  await mkdir(state.stateDir, { recursive: true, mode: 0o700 });
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", state.stateDir]);
  mounted = true;
  await writeConfig(state, {
    models: { providers: { chutes: { baseUrl: chutes.url } } },
    agents: { defaults: { model: { primary: "chutes/Qwen/Qwen3-32B-TEE" } } },
  });
  gateway = await startGateway(state);
});

after(async () => {
  if (!canMount) return;
  await gateway?.stop();
  await chutes?.close();
  if (mounted) execFileSync("umount", [state.stateDir]);
  await state?.cleanup();
});

/** Write until the file system refuses another byte. */
async function fillDisk(file: string): Promise<void> {
  const handle = await open(file, "a");
  try {
    for (const size of [1 << 16, 4096, 1]) {
      const chunk = Buffer.alloc(size, 120);
      for (;;) {
        try {
          await handle.write(chunk);
        } catch (error) {
          if ((error as { code?: string }).code === "ENOSPC") break;
          throw error;
        }
      }
    }
  } finally {
    await handle.close();
  }
}

const createResponse = (body: Record<string, unknown>) =>
  fetch(`${gateway.url}/v1/responses`, {
    method: "POST",
    headers: { authorization: `Bearer ${GATEWAY_TOKEN}`, "content-type": "application/json" },
    // Large enough that storing it needs pages the full disk does not have.
    body: JSON.stringify({ model: "openclaw", input: `remember this: ${"x".repeat(64 * 1024)}`, ...body }),
  });

test("on a full disk, a response that cannot be stored is an error, never an id that was not stored", { skip }, async () => {
  const ok = await createResponse({});
  assert.equal(ok.status, 200);
  await fillDisk(filler());
  try {
    const refused = await createResponse({});
    const body = (await refused.json()) as { error: { type: string; code: string; message: string } };
    assert.equal(refused.status, 507, JSON.stringify(body));
    assert.equal(body.error.type, "server_error");
    assert.equal(body.error.code, "response_not_stored");
    assert.match(body.error.message, /disk is full/);

    const streamed = await createResponse({ stream: true });
    assert.equal(streamed.status, 200);
    const events = (await streamed.text())
      .split("\n")
      .filter((line) => line.startsWith("event: "))
      .map((line) => line.slice("event: ".length));
    assert.equal(events.at(-1), "response.failed", events.join(", "));
    assert.ok(!events.includes("response.completed"), events.join(", "));

    // Not storing was asked for: the answer needs no disk.
    const unstored = await createResponse({ store: false });
    assert.equal(unstored.status, 200);

    // A failed turn write is logged, and the gateway goes on answering.
    await waitUntil(() => gateway.stdout().includes("could not record session turns"), { what: "the failed turn write logged" });
    const health = await fetch(`${gateway.url}/healthz`);
    assert.equal(health.status, 200);
  } finally {
    await rm(filler(), { force: true });
  }
  const again = await createResponse({});
  assert.equal(again.status, 200);
  const { id } = (await again.json()) as { id: string };
  const stored = await fetch(`${gateway.url}/v1/responses/${id}`, { headers: { authorization: `Bearer ${GATEWAY_TOKEN}` } });
  assert.equal(stored.status, 200);
});
