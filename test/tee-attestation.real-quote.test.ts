import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { constants as dcapConstants } from "@phala/dcap-qvl";
import { INTEL_SGX_ROOT_CA_PEM, INTEL_SGX_ROOT_CA_SHA256 } from "../src/providers/chutes/tee/attestation/intel-sgx-root-ca.js";
import { createCollateralSource } from "../src/providers/chutes/tee/attestation/pccs-collateral.js";
import { checkQuote } from "../src/providers/chutes/tee/attestation/quote-check.js";
import { FIXTURES } from "./helpers/cli.js";
import { type FakePccs, pccsContentFromCollateral, startFakePccs } from "./helpers/fake-tdx/fake-pccs.js";
import { after, before, test } from "./helpers/test.js";

// A real TDX quote and the collateral Intel's PCS served for it (dcap-qvl's own sample, see
// test/fixtures/tee/SOURCES.md), verified at a time inside the collateral's validity.
const AT = Date.parse("2025-07-01T00:00:00Z");
const quote = readFileSync(path.join(FIXTURES, "tee", "dcap-qvl-tdx-quote.bin"));
const collateral = JSON.parse(readFileSync(path.join(FIXTURES, "tee", "dcap-qvl-tdx-quote-collateral.json"), "utf8")) as Record<
  string,
  string
>;
const intelRoot = new X509Certificate(INTEL_SGX_ROOT_CA_PEM);
let pccs: FakePccs;

before(async () => {
  pccs = await startFakePccs(pccsContentFromCollateral(collateral));
});
after(() => pccs.close());

function verifyAt(bytes: Buffer, now = AT) {
  const source = createCollateralSource({
    pccsUrl: pccs.url,
    trustAnchor: intelRoot,
    now: () => now,
    http: { timeoutMs: 10_000 },
    maxBytes: 1 << 20,
  });
  return checkQuote(bytes, { collateral: source, trustAnchor: intelRoot, allowedTcbStatuses: ["UpToDate"], now: () => now });
}

test("the pinned Intel SGX root is the one Intel's chains end at and dcap-qvl embeds", () => {
  assert.equal(intelRoot.fingerprint256.replaceAll(":", ""), INTEL_SGX_ROOT_CA_SHA256);
  assert.ok(intelRoot.raw.equals(dcapConstants.TRUSTED_ROOT_CA_DER));
  const chainRoot = collateral.tcb_info_issuer_chain!.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g)!.at(-1)!;
  assert.ok(new X509Certificate(chainRoot).raw.equals(intelRoot.raw));
});

test("a real TDX quote verifies against Intel's root with its real collateral: UpToDate, its MRTD", async (t) => {
  const result = await verifyAt(quote);
  t.diagnostic(`TCB ${result.tcbStatus}, MRTD ${result.report?.mrtd}, quote SHA-256 ${result.quoteSha256}`);
  for (const check of result.checks) assert.ok(check.ok, `${check.name}: ${check.detail ?? check.seen}`);
  assert.deepEqual(
    result.checks.map((check) => check.name),
    ["root", "collateral", "quote", "tcb"],
  );
  assert.equal(result.tcbStatus, "UpToDate");
  assert.equal(result.report?.mrtd, "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7");
});

test("one flipped byte in the real quote's TD report fails the quote signature", async () => {
  const tampered = Buffer.from(quote);
  const inMrtd = 48 + 136;
  tampered[inMrtd] = tampered[inMrtd]! ^ 0x01;
  const result = await verifyAt(tampered);
  const check = result.checks.find((candidate) => candidate.name === "quote");
  assert.equal(check?.ok, false);
  assert.match(check?.detail ?? "", /signature is invalid/);
});

test("the real collateral is refused once past its nextUpdate", async () => {
  const result = await verifyAt(quote, Date.parse("2025-08-01T00:00:00Z"));
  const check = result.checks.find((candidate) => candidate.name === "collateral");
  assert.equal(check?.ok, false);
  assert.match(check?.detail ?? "", /expired|nextUpdate/);
});
