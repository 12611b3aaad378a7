import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { CredentialStore } from "../src/auth/credential-store.js";
import { resolveStatePaths } from "../src/config/paths.js";
import type { OpenClawConfig } from "../src/config/schema.js";
import { ModelRuntime } from "../src/models/model-runtime.js";
import { createTestState, readStore, type TestState } from "./helpers/cli.js";
import { type FakeIdp, startFakeIdp } from "./helpers/fake-idp.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

let idp: FakeIdp;
let state: TestState;
before(async () => {
  idp = await startFakeIdp();
});
after(() => idp.close());
beforeEach(async () => {
  idp.refreshCalls = 0;
  idp.refreshDelayMs = 0;
  idp.expiresIn = 3600;
  state = await createTestState();
});
afterEach(() => state.cleanup());

async function storeProfile(profile: Record<string, unknown>): Promise<void> {
  await mkdir(path.dirname(state.authProfilesPath), { recursive: true, mode: 0o700 });
  const data = { version: 1, profiles: { "chutes:oauth": { type: "oauth", provider: "chutes", clientId: idp.clientId, ...profile } } };
  await writeFile(state.authProfilesPath, JSON.stringify(data), { mode: 0o600 });
}

/** A runtime as a gateway or CLI process builds it, reading the store on disk. */
async function createRuntime(options: { now?: () => number; refreshWaitMs?: number } = {}): Promise<ModelRuntime> {
  const paths = resolveStatePaths(state.env);
  const config: OpenClawConfig = {
    models: { providers: { chutes: { baseUrl: "http://127.0.0.1:9/v1", oauth: { baseUrl: idp.url } } } },
    auth: { profiles: { "chutes:oauth": { provider: "chutes", mode: "oauth" } } },
  };
  const credentialStore = CredentialStore.fromPaths(paths);
  return new ModelRuntime({ config, paths, store: await credentialStore.read(), credentialStore, env: {}, ...options });
}

test("a refresh slower than the caller's wait (and than the old 8 s timeout) still stores the rotated pair", async () => {
  const old = idp.issue();
  await storeProfile({ access: old.access, refresh: old.refresh, expires: Date.now() - 1000 });
  idp.refreshDelayMs = 9_000;
  const runtime = await createRuntime({ refreshWaitMs: 200 });
  // The caller stops waiting with a 503 that does not blame its own credentials…
  await assert.rejects(runtime.freshCredential("chutes"), { status: 503, code: "credential_refresh_pending" });
  await assert.rejects(runtime.freshCredential("chutes"), { status: 503, code: "credential_refresh_pending" });
  // …while the one refresh goes on to its end and is written.
  await runtime.settleRefreshes();
  assert.equal(idp.refreshCalls, 1);
  const stored = (await readStore(state)).profiles["chutes:oauth"];
  assert.notEqual(stored.refresh, old.refresh);
  assert.ok(idp.validAccess.has(stored.access));
  assert.equal(stored.needsReauth, undefined);
  assert.equal((await runtime.freshCredential("chutes"))?.secret, stored.access);
  // Another process starts from the stored pair: the spent refresh token is never sent again.
  assert.equal((await (await createRuntime()).freshCredential("chutes"))?.secret, stored.access);
  assert.equal(idp.refreshCalls, 1);
});

test("short-lived tokens are refreshed at half-life, not on every request", async () => {
  idp.expiresIn = 60;
  let clock = Date.now();
  const old = idp.issue();
  await storeProfile({ access: old.access, refresh: old.refresh, expires: clock - 1000 });
  const runtime = await createRuntime({ now: () => clock });
  await runtime.freshCredential("chutes");
  assert.equal(idp.refreshCalls, 1);
  assert.equal((await readStore(state)).profiles["chutes:oauth"].lifetimeMs, 60_000);
  // 100 requests over 50 s of the runtime's clock: one more refresh, at 30 s.
  for (let i = 0; i < 100; i++) {
    clock += 500;
    const credential = await runtime.freshCredential("chutes");
    await runtime.settleRefreshes();
    const profile = credential?.credential;
    assert.ok(profile?.type === "oauth" && (profile.expires ?? 0) > clock, `request ${i} got an expired token`);
  }
  assert.equal(idp.refreshCalls, 2);
});
