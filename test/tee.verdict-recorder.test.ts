import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { StatePaths } from "../src/config/paths.js";
import { recordAttestationVerdict, type StoredVerdict, verdictRecorder } from "../src/store/attestation-verdicts.js";
import { test } from "./helpers/test.js";

const verdict = (ok: boolean, at: number): StoredVerdict => ({
  ok,
  verifiedAt: at,
  expiresAt: at + 600_000,
  target: "chute",
  attestedInstances: ok ? 1 : 0,
});

test("verdict recorder: a burst is queued (nothing written yet), then merged in one write beside the verdicts already stored", async () => {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), "openclaw-verdicts-"));
  try {
    const paths = { stateDir, configPath: path.join(stateDir, "openclaw.json") } as StatePaths;
    const file = path.join(stateDir, "tee", "attestations.json");
    await recordAttestationVerdict(paths, "chutes/from-tee-verify", verdict(true, 1));
    const recorder = verdictRecorder(paths, { delayMs: 3_600_000 });
    assert.equal(verdictRecorder(paths), recorder, "one recorder per state dir");
    recorder.record("chutes/a", verdict(true, 2));
    recorder.record("chutes/b", verdict(false, 3));
    recorder.record("chutes/a", verdict(true, 4));
    // Queued, not written: the request that made the verdict never waits on the disk.
    assert.deepEqual(Object.keys(JSON.parse(await readFile(file, "utf8")).verdicts), ["chutes/from-tee-verify"]);
    await recorder.flush();
    const stored = JSON.parse(await readFile(file, "utf8")).verdicts;
    assert.deepEqual(Object.keys(stored).sort(), ["chutes/a", "chutes/b", "chutes/from-tee-verify"]);
    assert.equal(stored["chutes/a"].verifiedAt, 4);
    assert.equal(stored["chutes/b"].ok, false);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  } finally {
    await rm(stateDir, { recursive: true, force: true });
  }
});
