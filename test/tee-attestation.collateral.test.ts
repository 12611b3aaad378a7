import assert from "node:assert/strict";
import { createTeeAttestor } from "../src/providers/chutes/tee/attestation/attestor.js";
import { MAX_QUOTE_BYTES } from "../src/providers/chutes/tee/attestation/quote-check.js";
import type { ChuteReport } from "../src/providers/chutes/tee/attestation/report.js";
import { DAY, type FakeTeeFleet, startFakeTeeFleet } from "./helpers/fake-tdx/fake-fleet.js";
import { createCrl, createTestCa } from "./helpers/fake-tdx/test-ca.js";
import { after, before, beforeEach, test } from "./helpers/test.js";

const T0 = Date.parse("2026-03-01T00:00:00Z");
let fleet: FakeTeeFleet;

before(async () => {
  fleet = await startFakeTeeFleet({ now: T0 });
});
after(() => fleet.close());
beforeEach(() => fleet.publishCollateral({}));

const verify = (extra = {}) => createTeeAttestor({ ...fleet.attestorOptions(extra), now: () => T0 }).verifyChute(fleet.chute);
const detailOf = (report: ChuteReport, name: string) => {
  const check = report.instances[0]!.checks.find((entry) => entry.name === name)!;
  assert.equal(check.ok, false, `${name} should fail`);
  return check.detail ?? "";
};

// dcap-qvl only looks for serial numbers in the CRLs; a substituted CRL would hide a revocation.
test("a PCK CRL signed by someone else than the PCK CA is refused", async () => {
  const mallory = await createTestCa({ now: T0, name: "Mallory" });
  fleet.pccs.content = { ...fleet.pccs.content, pckCrl: mallory.pckCrl };
  const report = await verify();
  assert.equal(report.ok, false);
  assert.match(detailOf(report, "collateral"), /PCK CRL signature is invalid/);
});

test("a root CA CRL not signed by the trust anchor is refused", async () => {
  const mallory = await createTestCa({ now: T0, name: "Mallory" });
  fleet.pccs.content = { ...fleet.pccs.content, rootCaCrl: mallory.rootCrl };
  assert.match(detailOf(await verify(), "collateral"), /root CA CRL signature is invalid/);
});

test("an expired CRL is refused", async () => {
  const stale = await createCrl(fleet.ca.pckCa, new Date(T0 - 40 * DAY), new Date(T0 - 10 * DAY));
  fleet.pccs.content = { ...fleet.pccs.content, pckCrl: stale };
  assert.match(detailOf(await verify(), "collateral"), /PCK CRL expired/);
});

test("TCB info altered after signing fails the quote check", async () => {
  const content = fleet.pccs.content;
  fleet.pccs.content = { ...content, tcbInfo: content.tcbInfo.replace('"tcbEvaluationDataNumber":17', '"tcbEvaluationDataNumber":18') };
  assert.match(detailOf(await verify(), "quote"), /Signature is invalid for tcb_info/);
});

test("an oversized PCCS answer is abandoned at the byte bound", async () => {
  const content = fleet.pccs.content;
  fleet.pccs.content = { ...content, tcbInfo: content.tcbInfo.replace('"id":"TDX"', `"pad":"${"x".repeat(2 * 1024 * 1024)}","id":"TDX"`) };
  assert.match(detailOf(await verify(), "collateral"), /more than the 1048576 bytes allowed/);
});

test("an oversized quote is refused before it is decoded", async () => {
  const tee = fleet.tee;
  const original = tee.instances[0]!.platform;
  // A PEM chain padded past the quote bound: the quote grows with its certification data.
  const padded = { ...original, qeCertificationData: Buffer.concat([original.qeCertificationData, Buffer.alloc(MAX_QUOTE_BYTES)]) };
  tee.tamper.set("inst-1", { platform: padded });
  try {
    const report = await verify();
    assert.match(detailOf(report, "quote"), /larger than 65536 bytes/);
  } finally {
    tee.tamper.clear();
  }
});

test("a PCCS that does not answer in time fails closed, naming the time limit", async () => {
  const hang = await import("node:http").then(({ createServer }) => createServer(() => undefined));
  await new Promise<void>((resolve) => hang.listen(0, "127.0.0.1", resolve));
  try {
    const { port } = hang.address() as { port: number };
    const report = await verify({ pccsUrl: `http://127.0.0.1:${port}`, timeoutMs: 500 });
    assert.match(detailOf(report, "collateral"), /no answer within 500 ms/);
  } finally {
    hang.closeAllConnections();
    hang.close();
  }
});

test("without a PCCS root CA CRL path (Intel's PCS), the CRL comes from the root's distribution point", async () => {
  const { createServer } = await import("node:http");
  let served: Buffer | undefined;
  let hits = 0;
  const cdp = createServer((_request, response) => {
    hits++;
    response.writeHead(served ? 200 : 404).end(served);
  });
  await new Promise<void>((resolve) => cdp.listen(0, "127.0.0.1", resolve));
  const { port } = cdp.address() as { port: number };
  const own = await startFakeTeeFleet({ now: T0, rootCrlUrl: `http://127.0.0.1:${port}/TestRootCA.der` });
  try {
    served = own.ca.rootCrl;
    own.pccs.content = { ...own.pccs.content, rootCaCrlOnPccs: false };
    const report = await createTeeAttestor({ ...own.attestorOptions(), now: () => T0 }).verifyChute(own.chute);
    assert.equal(report.ok, true, JSON.stringify(report.instances[0]?.checks));
    assert.equal(hits, 1);
    assert.equal(own.pccs.hits.get("/sgx/certification/v4/rootcacrl"), 1);
  } finally {
    await own.close();
    cdp.closeAllConnections();
    cdp.close();
  }
});
