import assert from "node:assert/strict";
import { stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { createTestState, isOneLineError, runCli, type TestState, writeConfig } from "./helpers/cli.js";
import type { RunningFake } from "./helpers/fake-chutes-tee/fake-e2ee.js";
import { type FakeNras, startFakeNras } from "./helpers/fake-chutes-tee/fake-nras.js";
import { type FakeTeeFleet, startFakeTeeFleet } from "./helpers/fake-tdx/fake-fleet.js";
import { type FakeUpstream, startFakeUpstream } from "./helpers/fake-upstream.js";
import { after, afterEach, before, beforeEach, test } from "./helpers/test.js";

/**
 * `openclaw tee verify` against a fake Chutes TEE fleet (API, PCCS, NRAS stand-in) on 127.0.0.1,
 * reached through the ordinary config: the test CA is the trust anchor a user could set too.
 */
const CHUTE_ID = "5e0c3f7a-1b2d-4c3e-9f8a-7b6c5d4e3f2a";
const MODEL = "openclaw/Test-Model-TEE";
let fleet: FakeTeeFleet;
let nras: RunningFake<FakeNras>;
let chutes: FakeUpstream;
let state: TestState;

before(async () => {
  fleet = await startFakeTeeFleet({ now: Date.now(), chute: CHUTE_ID });
  nras = await startFakeNras();
  chutes = await startFakeUpstream();
  chutes.route("GET /models", {
    body: { object: "list", data: [{ id: MODEL, chute_id: CHUTE_ID, confidential_compute: true, context_length: 32768 }] },
  });
});
after(async () => {
  await Promise.all([fleet.close(), nras.close(), chutes.close()]);
});
beforeEach(async () => {
  fleet.tee.tamper.clear();
  fleet.tee.statusFor = {};
  nras.fake.tamper = {};
  state = await createTestState({ CHUTES_API_KEY: fleet.credential });
  await writeFile(path.join(state.root, "test-root.pem"), fleet.ca.root.pem);
  await writeConfig(state, teeConfig());
});
afterEach(() => state.cleanup());

function teeConfig(tee: Record<string, unknown> = {}) {
  return {
    models: {
      providers: {
        chutes: {
          baseUrl: chutes.url,
          tee: {
            apiBaseUrl: fleet.tee.url,
            pccsUrl: fleet.pccs.url,
            // A path relative to the config file's directory (the state dir): ../test-root.pem.
            trustAnchorPem: "../test-root.pem",
            gpuVerifierUrl: nras.origin,
            ...tee,
          },
        },
      },
    },
  };
}

test("tee verify attests every instance of the model's chute, printing each check, and records the verdict (0600)", async () => {
  const result = await runCli(state, ["tee", "verify", `chutes/${MODEL}`]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, new RegExp(`TEE attestation of chutes/${MODEL} \\(${CHUTE_ID}\\) at \\S+: attested \\(2 of 2 instances\\)`));
  for (const name of ["instance", "root", "collateral", "quote", "tcb", "nonce-binding", "cert-binding", "measurements", "gpu"])
    assert.equal(result.stdout.match(new RegExp(`^  pass  ${name}: expected .+; seen .+$`, "gm"))?.length, 2, name);
  assert.match(result.stdout, /instance inst-1: passed \(quote sha256 [0-9a-f]{64}, TCB UpToDate, measurement 8xh200 1\.3\.0\)/);
  assert.equal(fleet.tee.nonces.length > 0, true, "the evidence route was asked under the chute id from /v1/models");
  assert.equal(nras.fake.requests.length, 2, "each instance's GPUs went to the configured verifier");
  assert.ok(!result.stdout.includes(fleet.credential));

  const file = path.join(state.stateDir, "tee", "attestations.json");
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const listed = await runCli(state, ["models", "list", "--json"]);
  const model = JSON.parse(listed.stdout).models.find((entry: { ref: string }) => entry.ref === `chutes/${MODEL}`);
  assert.equal(model.upstreamId, CHUTE_ID);
  assert.equal(model.tee.status, "attested");
  assert.ok(Date.parse(model.tee.verifiedAt) > 0);
  const status = await runCli(state, ["models", "status"]);
  assert.match(status.stdout, /TEE models: 1 declared; 1 attested, 0 refused \(last verified \S+\)/);
});

test("tee verify --json gives the same report as data: every check with expected and seen", async () => {
  const result = await runCli(state, ["tee", "verify", CHUTE_ID, "--json"]);
  assert.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout);
  assert.equal(report.model, `chutes/${MODEL}`, "a chute id finds its catalog model");
  assert.equal(report.target, CHUTE_ID);
  assert.equal(report.ok, true);
  assert.equal(report.instances.length, 2);
  for (const check of report.instances[0].checks) assert.ok(typeof check.expected === "string" && typeof check.seen === "string");
});

test("a software stack not in the published measurements: exit 1 naming the measurements check, verdict refused", async () => {
  for (const id of ["inst-1", "inst-2"]) fleet.tee.tamper.set(id, { unlistedRtmr3: true });
  const result = await runCli(state, ["tee", "verify", `chutes/${MODEL}`]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /NOT attested/);
  assert.match(result.stdout, /^ {2}FAIL {2}measurements: expected /m);
  assert.match(result.stdout, /inst-1: measurements check failed/);
  const listed = await runCli(state, ["models", "list"]);
  assert.match(listed.stdout, /chutes\/openclaw\/Test-Model-TEE\s+33k\s+text\s+refused/);
});

test("GPU evidence refused by the verifier, or the verifier unreachable: exit 1 naming the gpu check", async () => {
  nras.fake.tamper = { failedMeasurement: true };
  const refused = await runCli(state, ["tee", "verify", `chutes/${MODEL}`, "--json"]);
  assert.equal(refused.code, 1);
  const failedChecks = JSON.parse(refused.stdout).instances.map((instance: { checks: { name: string; ok: boolean }[] }) =>
    instance.checks.filter((check) => !check.ok).map((check) => check.name),
  );
  assert.deepEqual(failedChecks, [["gpu"], ["gpu"]]);

  await writeConfig(state, teeConfig({ gpuVerifierUrl: "http://127.0.0.1:9" }));
  const unreachable = await runCli(state, ["tee", "verify", `chutes/${MODEL}`]);
  assert.equal(unreachable.code, 1);
  assert.match(unreachable.stdout, /^ {2}FAIL {2}gpu: /m);
});

test("an evidence route that refuses: exit 1 with the reason, the credential it echoed never printed", async () => {
  fleet.tee.statusFor = { evidence: 404 };
  const result = await runCli(state, ["tee", "verify", `chutes/${MODEL}`, "--json"]);
  assert.equal(result.code, 1);
  const report = JSON.parse(result.stdout);
  assert.equal(report.ok, false);
  assert.equal(report.error.status, 404);
  assert.ok(!(result.stdout + result.stderr).includes(fleet.credential));
});

test("bad input: no credential, a provider without attestation, an unreadable trust anchor: one line, non-zero exit", async () => {
  const noKey = await runCli(state, ["tee", "verify", `chutes/${MODEL}`], { env: { CHUTES_API_KEY: "" } });
  assert.notEqual(noKey.code, 0);
  assert.ok(isOneLineError(noKey.stderr), noKey.stderr);
  const other = await runCli(state, ["tee", "verify", "huggingface/Qwen/Qwen3-8B"]);
  assert.notEqual(other.code, 0);
  assert.match(other.stderr, /huggingface models have no hardware attestation/);
  await writeConfig(state, teeConfig({ trustAnchorPem: "/nonexistent/root.pem" }));
  const anchor = await runCli(state, ["tee", "verify", `chutes/${MODEL}`]);
  assert.notEqual(anchor.code, 0);
  assert.ok(isOneLineError(anchor.stderr), anchor.stderr);
  assert.match(anchor.stderr, /trustAnchorPem: cannot read \/nonexistent\/root\.pem/);
});
