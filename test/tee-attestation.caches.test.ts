import assert from "node:assert/strict";
import { createTeeAttestor } from "../src/providers/chutes/tee/attestation/attestor.js";
import { describeFailure } from "../src/providers/chutes/tee/attestation/report.js";
import { DAY, type FakeTeeFleet, startFakeTeeFleet } from "./helpers/fake-tdx/fake-fleet.js";
import { after, before, beforeEach, test } from "./helpers/test.js";

const T0 = Date.parse("2026-03-01T00:00:00Z");
let fleet: FakeTeeFleet;
let clock = T0;
const now = () => clock;

before(async () => {
  fleet = await startFakeTeeFleet({ now: T0, collateralDays: 30 });
});
after(() => fleet.close());
beforeEach(() => {
  clock = T0;
  fleet.tee.statusFor = {};
  fleet.publishCollateral({});
});

test("a second verification within the TTL makes no new evidence call; after it, a fresh one", async () => {
  const attestor = createTeeAttestor({ ...fleet.attestorOptions(), now, verifiedTtlMs: 10 * 60_000 });
  const first = await attestor.verifyChute(fleet.chute);
  assert.equal(first.ok, true, describeFailure(first));
  const calls = fleet.tee.hits.evidence;
  clock += 9 * 60_000;
  assert.equal(await attestor.verifyChute(fleet.chute), first);
  assert.equal(fleet.tee.hits.evidence, calls);
  assert.ok(attestor.cached(fleet.chute));
  clock += 2 * 60_000;
  assert.equal(attestor.cached(fleet.chute), undefined);
  const second = await attestor.verifyChute(fleet.chute);
  assert.equal(second.ok, true);
  assert.equal(fleet.tee.hits.evidence, calls + 1);
  assert.notEqual(second.nonce, first.nonce);
});

test("a failure is remembered briefly: no new call within 30 s, a new one after", async () => {
  fleet.tee.statusFor = { evidence: 429 };
  const attestor = createTeeAttestor({ ...fleet.attestorOptions(), now });
  const calls = fleet.tee.hits.evidence;
  assert.equal((await attestor.verifyChute(fleet.chute)).ok, false);
  assert.equal(fleet.tee.hits.evidence, calls + 1);
  clock += 29_000;
  assert.equal((await attestor.verifyChute(fleet.chute)).error?.status, 429);
  assert.equal(fleet.tee.hits.evidence, calls + 1);
  clock += 2_000;
  fleet.tee.statusFor = {};
  assert.equal((await attestor.verifyChute(fleet.chute)).ok, true);
  assert.equal(fleet.tee.hits.evidence, calls + 2);
});

test("concurrent verifications of one chute share one flight", async () => {
  const attestor = createTeeAttestor({ ...fleet.attestorOptions(), now });
  const calls = { evidence: fleet.tee.hits.evidence, instances: fleet.tee.hits.instances };
  const reports = await Promise.all([1, 2, 3, 4].map(() => attestor.verifyChute(fleet.chute)));
  assert.ok(reports.every((report) => report === reports[0] && report.ok));
  assert.equal(fleet.tee.hits.evidence, calls.evidence + 1);
  assert.equal(fleet.tee.hits.instances, calls.instances + 1);
});

test("collateral is reused until its nextUpdate, then fetched again", async () => {
  const attestor = createTeeAttestor({ ...fleet.attestorOptions(), now });
  const tcbHits = () => fleet.pccs.hits.get("/tdx/certification/v4/tcb") ?? 0;
  const before = tcbHits();
  assert.equal((await attestor.verifyChute(fleet.chute)).ok, true);
  assert.equal(tcbHits(), before + 1, "two instances of one platform: one fetch");

  clock += 20 * DAY;
  assert.equal((await attestor.verifyChute(fleet.chute, { fresh: true })).ok, true);
  assert.equal(tcbHits(), before + 1, "within nextUpdate: cached");

  // Intel publishes the next collateral; ours passes its nextUpdate (T0 + 30 days).
  fleet.publishCollateral({ issueDate: T0 + 29 * DAY, nextUpdate: T0 + 60 * DAY });
  clock = T0 + 31 * DAY;
  const report = await attestor.verifyChute(fleet.chute, { fresh: true });
  assert.equal(report.ok, true, describeFailure(report));
  assert.equal(tcbHits(), before + 2);
});

test("a measurement list is reused within its TTL", async () => {
  const attestor = createTeeAttestor({ ...fleet.attestorOptions({ measurements: { ttlMs: 60 * 60_000 } }), now });
  const before = fleet.tee.hits.measurements;
  await attestor.verifyChute(fleet.chute);
  await attestor.verifyChute(fleet.chute, { fresh: true });
  assert.equal(fleet.tee.hits.measurements, before + 1);
  clock += 61 * 60_000;
  await attestor.verifyChute(fleet.chute, { fresh: true });
  assert.equal(fleet.tee.hits.measurements, before + 2);
});
