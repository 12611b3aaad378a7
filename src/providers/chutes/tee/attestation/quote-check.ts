import { createHash, X509Certificate } from "node:crypto";
import type { CollateralSource } from "./pccs-collateral.js";
import type { CheckResult } from "./report.js";

/** A TDX quote with its PEM chain is ~5 KB; anything past this is not a quote we will parse. */
export const MAX_QUOTE_BYTES = 64 * 1024;
const MIN_QUOTE_BYTES = 48 + 584 + 4;
const TEE_TYPE_TDX = 0x81;

export interface TdReport {
  mrtd: string;
  rtmrs: [string, string, string, string];
  reportData: Buffer;
}

export interface QuoteCheckResult {
  checks: CheckResult[];
  /** Present when the quote could be parsed; only trustworthy when every check passed. */
  report?: TdReport;
  quoteSha256?: string;
  tcbStatus?: string;
}

export interface QuoteCheckOptions {
  collateral: CollateralSource;
  trustAnchor: X509Certificate;
  allowedTcbStatuses: readonly string[];
  now: () => number;
  signal?: AbortSignal;
}

// dcap-qvl pulls in asn1.js, bn.js and elliptic: loaded when a quote is first checked, not at start-up.
let dcapModule: Promise<typeof import("@phala/dcap-qvl")> | undefined;
const loadDcap = () => {
  dcapModule ??= import("@phala/dcap-qvl");
  return dcapModule;
};

/** Decodes a base64 quote, refusing oversized input before decoding it. */
export function decodeQuote(base64: string): Buffer {
  if (base64.length > Math.ceil(MAX_QUOTE_BYTES / 3) * 4 + 4) throw new Error(`quote is larger than ${MAX_QUOTE_BYTES} bytes`);
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length < MIN_QUOTE_BYTES) throw new Error(`quote is ${bytes.length} bytes, too short for a TDX quote`);
  return bytes;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const fingerprint = (cert: X509Certificate) => cert.fingerprint256.replaceAll(":", "");

/**
 * DCAP verification of one TDX quote: the chain to the trust anchor, the collateral, the
 * signatures (dcap-qvl), then the TCB status against the allow-list, each a named check.
 */
export async function checkQuote(quote: Buffer, options: QuoteCheckOptions): Promise<QuoteCheckResult> {
  const dcap = await loadDcap();
  const quoteSha256 = createHash("sha256").update(quote).digest("hex");
  const fail = (name: CheckResult["name"], expected: string, seen: string, detail: string): CheckResult => ({
    name,
    ok: false,
    expected,
    seen,
    detail,
  });

  let parsed: InstanceType<typeof dcap.Quote>;
  try {
    parsed = dcap.Quote.parse(quote);
  } catch (error) {
    return { quoteSha256, checks: [fail("quote", "a TDX v4/v5 quote", "unparseable", (error as Error).message)] };
  }
  const td = parsed.report.asTd10();
  if (parsed.header.teeType !== TEE_TYPE_TDX || !td) {
    return {
      quoteSha256,
      checks: [fail("quote", "a TDX quote", `TEE type 0x${parsed.header.teeType.toString(16)}`, "not an Intel TDX quote")],
    };
  }
  const report: TdReport = {
    mrtd: hex(td.mrTd),
    rtmrs: [hex(td.rtMr0), hex(td.rtMr1), hex(td.rtMr2), hex(td.rtMr3)],
    reportData: Buffer.from(td.reportData),
  };
  const anchorName = `${options.trustAnchor.subject.replace(/\n/g, ", ")} (SHA-256 ${fingerprint(options.trustAnchor)})`;

  let chain: X509Certificate[];
  try {
    const pem = Buffer.from(parsed.rawCertChain()).toString("utf8");
    chain = (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((text) => new X509Certificate(text));
    if (chain.length < 2) throw new Error(`PCK chain has ${chain.length} certificate(s)`);
  } catch (error) {
    return {
      quoteSha256,
      report,
      checks: [fail("quote", "a PCK certificate chain (certification data type 5)", "none", (error as Error).message)],
    };
  }
  const top = chain[chain.length - 1]!;
  const rootOk = top.verify(options.trustAnchor.publicKey) && top.issuer === options.trustAnchor.subject;
  const checks: CheckResult[] = [
    rootOk
      ? { name: "root", ok: true, expected: anchorName, seen: `chain ends at ${top.subject.replace(/\n/g, ", ")}` }
      : fail(
          "root",
          anchorName,
          `${top.issuer.replace(/\n/g, ", ")} (SHA-256 ${fingerprint(top)})`,
          "the PCK chain is not issued by the trust anchor",
        ),
  ];
  if (!rootOk) {
    checks.push(fail("quote", "DCAP-valid", "not checked", "the chain does not reach the trust anchor"));
    return { quoteSha256, report, checks };
  }

  const leaf = chain[0]!;
  let fmspc: string;
  try {
    fmspc = hex(dcap.utils.getFmspc(dcap.utils.getIntelExtension(leaf.raw))).toUpperCase();
  } catch (error) {
    checks.push(fail("quote", "a PCK certificate with Intel SGX extensions", "none", (error as Error).message));
    return { quoteSha256, report, checks };
  }
  const ca = /Platform/i.test(leaf.issuer) ? "platform" : "processor";

  let collateral: Awaited<ReturnType<CollateralSource["get"]>>;
  try {
    collateral = await options.collateral.get(fmspc, ca, options.signal);
    checks.push({
      name: "collateral",
      ok: true,
      expected: "signed, current TCB info, QE identity and CRLs",
      seen: `FMSPC ${fmspc}, ${ca} CA`,
    });
  } catch (error) {
    checks.push(fail("collateral", "signed, current TCB info, QE identity and CRLs", "unavailable", (error as Error).message));
    checks.push(fail("quote", "DCAP-valid", "not checked", "no collateral to check it against"));
    return { quoteSha256, report, checks };
  }

  let status: string;
  try {
    const verified = dcap.QuoteVerifier.newWithRootCa(options.trustAnchor.raw).verify(quote, collateral, Math.floor(options.now() / 1000));
    status = verified.status;
    const advisories = verified.advisory_ids.length ? ` (${verified.advisory_ids.join(", ")})` : "";
    checks.push({ name: "quote", ok: true, expected: "DCAP-valid", seen: `valid, TCB ${status}${advisories}` });
  } catch (error) {
    const message = (error as Error).message;
    const revoked = /^TCB status is invalid: (\w+)/.exec(message);
    if (revoked) {
      checks.push({ name: "quote", ok: true, expected: "DCAP-valid", seen: "valid signatures" });
      checks.push(fail("tcb", options.allowedTcbStatuses.join(" | "), revoked[1]!, "the platform's TCB is not acceptable"));
    } else checks.push(fail("quote", "DCAP-valid", "invalid", message));
    return { quoteSha256, report, checks, tcbStatus: revoked?.[1] };
  }
  const allowed = options.allowedTcbStatuses.includes(status);
  checks.push(
    allowed
      ? { name: "tcb", ok: true, expected: options.allowedTcbStatuses.join(" | "), seen: status }
      : fail("tcb", options.allowedTcbStatuses.join(" | "), status, "TCB status not in the allow-list"),
  );
  return { quoteSha256, report, checks, tcbStatus: status };
}
