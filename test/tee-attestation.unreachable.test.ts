import assert from "node:assert/strict";
import { createServer } from "node:net";
import { createTeeAttestor } from "../src/providers/chutes/tee/attestation/attestor.js";
import { attestationError, describeFailure } from "../src/providers/chutes/tee/attestation/report.js";
import { type FakeTeeFleet, startFakeTeeFleet } from "./helpers/fake-tdx/fake-fleet.js";
import { after, before, beforeEach, test } from "./helpers/test.js";

const T0 = Date.parse("2026-03-01T00:00:00Z");
let fleet: FakeTeeFleet;

before(async () => {
  fleet = await startFakeTeeFleet({ now: T0 });
});
after(() => fleet.close());
beforeEach(() => {
  fleet.pccs.failWith = undefined;
  fleet.tee.statusFor = {};
});

/** A port nothing listens on: bound, then released. */
async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

test("a PCCS that cannot be reached fails every instance closed, on the collateral check, naming the PCCS", async () => {
  const pccsUrl = await deadUrl();
  const report = await createTeeAttestor({ ...fleet.attestorOptions({ pccsUrl }), now: () => T0 }).verifyChute(fleet.chute);
  assert.equal(report.ok, false);
  for (const verdict of report.instances) {
    const collateral = verdict.checks.find((check) => check.name === "collateral")!;
    assert.equal(collateral.ok, false);
    assert.match(collateral.detail ?? "", /127\.0\.0\.1:\d+\/.*unreachable/);
    assert.equal(verdict.checks.find((check) => check.name === "quote")?.ok, false);
  }
  assert.match(describeFailure(report), /collateral check failed/);
});

test("a PCCS answering 503 fails closed with its status", async () => {
  fleet.pccs.failWith = 503;
  const report = await createTeeAttestor({ ...fleet.attestorOptions(), now: () => T0 }).verifyChute(fleet.chute);
  assert.equal(report.ok, false);
  assert.match(report.instances[0]!.checks.find((check) => check.name === "collateral")?.detail ?? "", /answered 503/);
});

test("a Chutes API that cannot be reached gives a failed report with a clear message, not an exception", async () => {
  const apiBaseUrl = await deadUrl();
  const report = await createTeeAttestor({ ...fleet.attestorOptions({ apiBaseUrl }), now: () => T0 }).verifyChute(fleet.chute);
  assert.equal(report.ok, false);
  assert.deepEqual(report.instances, []);
  assert.match(report.error?.message ?? "", /\/e2e\/instances\/.* unreachable/);
  assert.match(describeFailure(report), /^TEE attestation of openclaw\/Test-Model-TEE failed: /);
  const error = attestationError(report);
  assert.equal(error.status, 503);
  assert.equal(error.toBody().error.code, "tee_attestation_unavailable");
});

test("a rate-limited or refused evidence call fails with its status, and the credential is never in the message", async () => {
  for (const [status, meaning] of [
    [429, /rate limited/],
    [404, /chute not found, or no access/],
    [502, /could not collect/],
  ] as const) {
    fleet.tee.statusFor = { evidence: status };
    const report = await createTeeAttestor({ ...fleet.attestorOptions(), now: () => T0 }).verifyChute(fleet.chute);
    assert.equal(report.ok, false);
    assert.equal(report.error?.status, status);
    assert.match(report.error?.message ?? "", meaning);
    // The fake quotes the Authorization header back in its error body.
    assert.match(report.error?.message ?? "", /Bearer \[redacted\]/);
    assert.ok(!JSON.stringify(report).includes(fleet.credential), "the credential leaked into the report");
  }
});

test("a measurement list that cannot be fetched fails the measurements check", async () => {
  fleet.tee.statusFor = { measurements: 503 };
  const report = await createTeeAttestor({ ...fleet.attestorOptions(), now: () => T0 }).verifyChute(fleet.chute);
  assert.equal(report.ok, false);
  const check = report.instances[0]!.checks.find((entry) => entry.name === "measurements")!;
  assert.equal(check.ok, false);
  assert.match(check.detail ?? "", /answered 503/);
});

test("a pinned measurement list replaces the published one", async () => {
  fleet.tee.statusFor = { measurements: 503 };
  const pinned = (fleet.tee.measurements as { name?: string }[]).filter((entry) => entry.name === "8xh200");
  const before = fleet.tee.hits.measurements;
  const report = await createTeeAttestor({ ...fleet.attestorOptions({ measurements: { pinned } }), now: () => T0 }).verifyChute(
    fleet.chute,
  );
  assert.equal(report.ok, true, describeFailure(report));
  assert.equal(fleet.tee.hits.measurements, before);
});
