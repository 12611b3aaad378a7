import assert from "node:assert/strict";
import { createTeeAttestor } from "../src/providers/chutes/tee/attestation/attestor.js";
import { attestationError, type ChuteReport, describeFailure } from "../src/providers/chutes/tee/attestation/report.js";
import { type FakeTeeFleet, startFakeTeeFleet } from "./helpers/fake-tdx/fake-fleet.js";
import { createTlsCertificate } from "./helpers/fake-tdx/test-ca.js";
import { after, before, beforeEach, test } from "./helpers/test.js";

const T0 = Date.parse("2026-03-01T00:00:00Z");
let fleet: FakeTeeFleet;

before(async () => {
  fleet = await startFakeTeeFleet({ now: T0 });
});
after(() => fleet.close());
beforeEach(() => {
  fleet.tee.tamper.clear();
  fleet.tee.listed = undefined;
  fleet.tee.swapListedKeys = undefined;
  fleet.tee.listedKeys.clear();
  fleet.tee.failedIds = [];
  fleet.publishCollateral({});
});

/** A fresh attestor (empty caches) pointed at the fleet through its ordinary options. */
const verify = () => createTeeAttestor({ ...fleet.attestorOptions(), now: () => T0 }).verifyChute(fleet.chute);

const instance = (report: ChuteReport, id: string) => report.instances.find((candidate) => candidate.instanceId === id)!;
const failing = (report: ChuteReport, id: string) =>
  instance(report, id)
    .checks.filter((check) => !check.ok)
    .map((check) => check.name);
const check = (report: ChuteReport, id: string, name: string) => instance(report, id).checks.find((candidate) => candidate.name === name)!;

/** One instance tampered, the other clean: only the tampered one fails, on the named check. */
function assertOnlyInst1Fails(report: ChuteReport, checks: string[]) {
  assert.deepEqual(failing(report, "inst-1"), checks, JSON.stringify(instance(report, "inst-1").checks, null, 1));
  assert.equal(instance(report, "inst-1").ok, false);
  assert.equal(instance(report, "inst-2").ok, true, JSON.stringify(instance(report, "inst-2").checks));
}

test("a chute whose instances pass every check is attested, each check named with what was expected and seen", async () => {
  const attestor = createTeeAttestor({ ...fleet.attestorOptions(), now: () => T0 });
  const report = await attestor.verifyChute(fleet.chute);
  assert.equal(report.ok, true, describeFailure(report));
  assert.match(report.nonce ?? "", /^[0-9a-f]{64}$/);
  assert.equal(fleet.tee.nonces.at(-1), report.nonce);
  for (const id of ["inst-1", "inst-2"]) {
    const verdict = instance(report, id);
    assert.equal(verdict.ok, true);
    assert.deepEqual(
      verdict.checks.map((entry) => entry.name),
      ["instance", "root", "collateral", "quote", "tcb", "nonce-binding", "cert-binding", "measurements", "gpu"],
    );
    for (const entry of verdict.checks) assert.ok(entry.expected && entry.seen, `${entry.name} says what it expected and saw`);
    assert.equal(verdict.tcbStatus, "UpToDate");
    assert.equal(verdict.measurement, "8xh200 1.3.0");
    assert.match(verdict.quoteSha256 ?? "", /^[0-9a-f]{64}$/);
  }
  const served = fleet.tee.instances[0]!;
  assert.ok(attestor.attestedInstance(fleet.chute, "inst-1", served.e2ePubkey));
  assert.equal(
    attestor.attestedInstance(fleet.chute, "inst-1", fleet.tee.instances[1]!.e2ePubkey),
    undefined,
    "another key is not the attested one",
  );
});

test("a broken quote signature fails the quote check", async () => {
  fleet.tee.tamper.set("inst-1", { breakSignature: true });
  const report = await verify();
  assertOnlyInst1Fails(report, ["quote"]);
  assert.match(check(report, "inst-1", "quote").detail ?? "", /signature is invalid/);
});

test("a quote whose PCK chain ends at another root fails the root check", async () => {
  fleet.tee.tamper.set("inst-1", { platform: fleet.foreignPlatform });
  const report = await verify();
  assertOnlyInst1Fails(report, ["root", "quote"]);
  assert.match(check(report, "inst-1", "root").seen, /Mallory SGX Root CA/);
});

// The GPUs sign the same derived nonce as the quote, so a wrong binding fails the gpu check too.
test("report_data bound to another nonce fails the nonce binding", async () => {
  fleet.tee.tamper.set("inst-1", { wrongNonce: true });
  const report = await verify();
  assertOnlyInst1Fails(report, ["nonce-binding", "gpu"]);
});

test("an e2e key swapped between two instances fails both on the nonce binding, naming the other instance", async () => {
  fleet.tee.swapListedKeys = ["inst-1", "inst-2"];
  const report = await verify();
  assert.equal(report.ok, false);
  assert.deepEqual(failing(report, "inst-1"), ["nonce-binding", "gpu"]);
  assert.deepEqual(failing(report, "inst-2"), ["nonce-binding", "gpu"]);
  assert.match(check(report, "inst-1", "nonce-binding").detail ?? "", /served for instance inst-2/);
  assert.match(describeFailure(report), /nonce-binding check failed/);
});

test("a quote bound to another instance's key fails that instance's nonce binding", async () => {
  fleet.tee.tamper.set("inst-1", { bindKeyOf: "inst-2" });
  const report = await verify();
  assertOnlyInst1Fails(report, ["nonce-binding", "gpu"]);
  assert.match(check(report, "inst-1", "nonce-binding").detail ?? "", /inst-2/);
});

test("a certificate other than the one the quote binds fails the cert binding", async () => {
  fleet.tee.tamper.set("inst-1", { otherCertificate: await createTlsCertificate("impostor.test", T0) });
  const report = await verify();
  assertOnlyInst1Fails(report, ["cert-binding"]);
});

test("a software stack not in the published measurements fails the measurements check", async () => {
  fleet.tee.tamper.set("inst-1", { unlistedRtmr3: true });
  const report = await verify();
  assertOnlyInst1Fails(report, ["measurements"]);
  assert.match(check(report, "inst-1", "measurements").detail ?? "", /RTMR3 differs/);
});

test("an out-of-date TCB fails the tcb check on every instance of the platform", async () => {
  fleet.publishCollateral({ tcbStatus: "OutOfDate" });
  const report = await verify();
  assert.equal(report.ok, false);
  for (const id of ["inst-1", "inst-2"]) assert.deepEqual(failing(report, id), ["tcb"]);
  assert.equal(check(report, "inst-1", "tcb").seen, "OutOfDate");
  const error = attestationError(report);
  assert.equal(error.status, 502);
  assert.match(error.message, /inst-1: tcb check failed \(TCB status not in the allow-list\)/);
});

test("an out-of-date TCB passes when the allow-list says so", async () => {
  fleet.publishCollateral({ tcbStatus: "OutOfDate" });
  const report = await createTeeAttestor({
    ...fleet.attestorOptions(),
    allowedTcbStatuses: ["UpToDate", "OutOfDate"],
    now: () => T0,
  }).verifyChute(fleet.chute);
  assert.equal(report.ok, true, describeFailure(report));
});

test("GPU evidence the GPU verifier refuses fails the gpu check", async () => {
  fleet.tee.tamper.set("inst-1", { refuseGpu: true });
  const report = await verify();
  assertOnlyInst1Fails(report, ["gpu"]);
  assert.match(check(report, "inst-1", "gpu").detail ?? "", /refused/);
});

test("without a GPU verifier no instance is accepted", async () => {
  const report = await createTeeAttestor({ ...fleet.attestorOptions(), gpuVerifier: undefined, now: () => T0 }).verifyChute(fleet.chute);
  assert.equal(report.ok, false);
  assert.deepEqual(failing(report, "inst-1"), ["gpu"]);
});

test("evidence replayed from an earlier nonce fails the nonce binding", async () => {
  assert.equal((await verify()).ok, true);
  fleet.tee.tamper.set("inst-1", { replay: true });
  const report = await verify();
  assert.notEqual(report.nonce, fleet.tee.nonces[0]);
  assertOnlyInst1Fails(report, ["nonce-binding", "gpu"]);
  assert.match(check(report, "inst-1", "nonce-binding").detail ?? "", /replayed/);
});

test("an instance in the evidence but not in the E2EE list fails, and so does one listed without evidence", async () => {
  fleet.tee.listed = ["inst-2"];
  const report = await verify();
  assert.deepEqual(failing(report, "inst-1"), ["instance"]);
  assert.equal(instance(report, "inst-2").ok, true);

  fleet.tee.listed = undefined;
  fleet.tee.failedIds = ["inst-1"];
  const second = await verify();
  assert.deepEqual(failing(second, "inst-1"), ["instance"]);
  assert.match(check(second, "inst-1", "instance").detail ?? "", /could not collect/);
  assert.deepEqual(second.failedInstanceIds, ["inst-1"]);
});

test("one e2e key served for two instances fails the instance check of both", async () => {
  fleet.tee.listedKeys.set("inst-2", fleet.tee.instances[0]!.e2ePubkey);
  const report = await verify();
  assert.equal(report.ok, false);
  assert.ok(failing(report, "inst-1").includes("instance"));
  assert.ok(failing(report, "inst-2").includes("instance"));
  assert.match(check(report, "inst-1", "instance").detail ?? "", /one e2e key served for two instances/);
});

test("more GPUs than the matched measurement allows, or none at all, fail the gpu check", async () => {
  fleet.tee.tamper.set("inst-1", { gpuCount: 9 });
  const report = await verify();
  assertOnlyInst1Fails(report, ["gpu"]);
  assert.match(check(report, "inst-1", "gpu").detail ?? "", /8xh200 1\.3\.0 has 8 GPUs/);

  fleet.tee.tamper.set("inst-1", { gpuCount: 0 });
  const none = await verify();
  assertOnlyInst1Fails(none, ["gpu"]);
  assert.equal(check(none, "inst-1", "gpu").seen, "no GPU evidence");
});
