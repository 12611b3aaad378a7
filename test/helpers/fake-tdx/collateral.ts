import { sign } from "node:crypto";
import type { PccsContent } from "./fake-pccs.js";
import { QE } from "./tdx-quote.js";
import type { PlatformTcb, TestCa } from "./test-ca.js";

export interface CollateralOptions {
  tcb: PlatformTcb;
  teeTcbSvn: number[];
  /** The status of the TCB level the platform matches; any other than UpToDate sits below an UpToDate level it misses. */
  tcbStatus?: string;
  issueDate: number;
  nextUpdate: number;
}

const components = (svns: number[]) => svns.map((svn) => ({ svn }));
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/**
 * Intel-shaped TDX collateral signed by the test CA's TCB signing key: TCB info v3 with
 * tcbLevels placing the platform at `tcbStatus`, the TD_QE identity, and the CRLs.
 */
export function buildCollateral(ca: TestCa, options: CollateralOptions): PccsContent {
  const status = options.tcbStatus ?? "UpToDate";
  const platformLevel = {
    tcb: { sgxtcbcomponents: components(options.tcb.cpuSvn), pcesvn: options.tcb.pceSvn, tdxtcbcomponents: components(options.teeTcbSvn) },
    tcbDate: "2025-01-01T00:00:00Z",
    tcbStatus: status,
    ...(status === "UpToDate" ? {} : { advisoryIDs: ["INTEL-SA-00000"] }),
  };
  const newer = {
    tcb: {
      sgxtcbcomponents: components(options.tcb.cpuSvn.map((svn) => svn + 1)),
      pcesvn: options.tcb.pceSvn + 1,
      tdxtcbcomponents: components(options.teeTcbSvn.map((svn) => svn + 1)),
    },
    tcbDate: "2025-06-01T00:00:00Z",
    tcbStatus: "UpToDate",
  };
  const tcbInfo = JSON.stringify({
    id: "TDX",
    version: 3,
    issueDate: iso(options.issueDate),
    nextUpdate: iso(options.nextUpdate),
    fmspc: options.tcb.fmspc,
    pceId: options.tcb.pceId,
    tcbType: 0,
    tcbEvaluationDataNumber: 17,
    tdxModule: { mrsigner: "00".repeat(48), attributes: "0000000000000000", attributesMask: "FFFFFFFFFFFFFFFF" },
    tcbLevels: status === "UpToDate" ? [platformLevel] : [newer, platformLevel],
  });
  const qeIdentity = JSON.stringify({
    id: "TD_QE",
    version: 2,
    issueDate: iso(options.issueDate),
    nextUpdate: iso(options.nextUpdate),
    tcbEvaluationDataNumber: 17,
    miscselect: "00000000",
    miscselectMask: "FFFFFFFF",
    attributes: QE.attributes.toString("hex").toUpperCase(),
    attributesMask: "FBFFFFFFFFFFFFFF0000000000000000",
    mrsigner: QE.mrSigner.toString("hex").toUpperCase(),
    isvprodid: QE.isvProdId,
    tcbLevels: [{ tcb: { isvsvn: QE.isvSvn }, tcbDate: "2025-01-01T00:00:00Z", tcbStatus: "UpToDate" }],
  });
  const signed = (text: string) => sign("sha256", Buffer.from(text), { key: ca.tcbSigning.key, dsaEncoding: "ieee-p1363" }).toString("hex");
  const signingChain = `${ca.tcbSigning.pem}\n${ca.root.pem}\n`;
  return {
    pckCrl: ca.pckCrl,
    pckCrlIssuerChain: `${ca.pckCa.pem}\n${ca.root.pem}\n`,
    tcbInfo,
    tcbInfoSignature: signed(tcbInfo),
    tcbInfoIssuerChain: signingChain,
    qeIdentity,
    qeIdentitySignature: signed(qeIdentity),
    qeIdentityIssuerChain: signingChain,
    rootCaCrl: ca.rootCrl,
  };
}
