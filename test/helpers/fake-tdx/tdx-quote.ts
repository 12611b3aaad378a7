import { createHash, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import type { PlatformTcb, TestCa } from "./test-ca.js";

const INTEL_QE_VENDOR_ID = Buffer.from("939a7233f79c4ca9940a0db3957f0607", "hex");
/** TD attributes with SEPT_VE_DISABLE set and debug off, as dcap-qvl requires. */
const TD_ATTRIBUTES = Buffer.from([0, 0, 0, 0x10, 0, 0, 0, 0]);

/** The quoting enclave's identity, shared by the quotes and the QE identity collateral. */
export const QE = {
  mrSigner: Buffer.alloc(32, 0x5a),
  isvProdId: 2,
  isvSvn: 4,
  attributes: Buffer.from("11000000000000000000000000000000", "hex"),
};

export interface TdxPlatform {
  tcb: PlatformTcb;
  /** The TDX module's TEE TCB SVN (16 bytes) the quotes report. */
  teeTcbSvn: number[];
  attestationKey: KeyObject;
  attestationPublic: Buffer;
  /** QE report + its PCK signature + auth data + PEM chain: fixed per platform, bound to the attestation key. */
  qeCertificationData: Buffer;
  pckChainPem: string;
}

const le16 = (value: number) => {
  const bytes = Buffer.alloc(2);
  bytes.writeUInt16LE(value);
  return bytes;
};
const le32 = (value: number) => {
  const bytes = Buffer.alloc(4);
  bytes.writeUInt32LE(value);
  return bytes;
};
const p1363 = (data: Buffer, key: KeyObject) => sign("sha256", data, { key, dsaEncoding: "ieee-p1363" });

/** A TDX machine of the fake fleet: a PCK certificate from `ca`, and a quoting enclave that certified an attestation key. */
export async function createTdxPlatform(ca: TestCa, tcb: PlatformTcb, teeTcbSvn: number[]): Promise<TdxPlatform> {
  const pck = await ca.issuePck(tcb);
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  const jwk = publicKey.export({ format: "jwk" });
  const attestationPublic = Buffer.concat([Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
  const qeAuthData = Buffer.alloc(32, 0x01);

  const qeReport = Buffer.concat([
    Buffer.from(tcb.cpuSvn),
    le32(0), // MISCSELECT
    Buffer.alloc(28),
    QE.attributes,
    Buffer.alloc(32, 0x11), // MRENCLAVE
    Buffer.alloc(32),
    QE.mrSigner,
    Buffer.alloc(96),
    le16(QE.isvProdId),
    le16(QE.isvSvn),
    Buffer.alloc(60),
    createHash("sha256")
      .update(Buffer.concat([attestationPublic, qeAuthData]))
      .digest(),
    Buffer.alloc(32),
  ]);
  const pckChainPem = `${pck.pem}\n${ca.pckCa.pem}\n${ca.root.pem}\n`;
  const chain = Buffer.from(pckChainPem, "utf8");
  const qeCertificationData = Buffer.concat([
    qeReport,
    p1363(qeReport, pck.key),
    le16(qeAuthData.length),
    qeAuthData,
    le16(5),
    le32(chain.length),
    chain,
  ]);
  return { tcb, teeTcbSvn, attestationKey: privateKey, attestationPublic, qeCertificationData, pckChainPem };
}

export interface TdFields {
  mrtd: Buffer;
  rtmrs: [Buffer, Buffer, Buffer, Buffer];
  reportData: Buffer;
}

/** A TDX v4 quote: header + TD report signed by the attestation key, certification data type 6 (→ 5, PEM chain). */
export function buildTdxQuote(platform: TdxPlatform, fields: TdFields, options: { breakSignature?: boolean } = {}): Buffer {
  const header = Buffer.concat([
    le16(4),
    le16(2),
    le32(0x81),
    le16(QE.isvSvn),
    le16(platform.tcb.pceSvn),
    INTEL_QE_VENDOR_ID,
    Buffer.alloc(20),
  ]);
  const report = Buffer.concat([
    Buffer.from(platform.teeTcbSvn),
    Buffer.alloc(48), // MRSEAM
    Buffer.alloc(48), // MRSIGNERSEAM
    Buffer.alloc(8), // SEAMATTRIBUTES
    TD_ATTRIBUTES,
    Buffer.from("e718060000000000", "hex"), // XFAM
    fields.mrtd,
    Buffer.alloc(48 * 3), // MRCONFIGID, MROWNER, MROWNERCONFIG
    ...fields.rtmrs,
    fields.reportData,
  ]);
  const signed = Buffer.concat([header, report]);
  const signature = p1363(signed, platform.attestationKey);
  // A byte changed after signing, where no other check looks (MROWNER).
  const mrOwner = 48 + 16 + 48 * 2 + 8 * 3 + 48 * 2;
  if (options.breakSignature) signed[mrOwner] = signed[mrOwner]! ^ 0xff;
  const certification = Buffer.concat([le16(6), le32(platform.qeCertificationData.length), platform.qeCertificationData]);
  const auth = Buffer.concat([signature, platform.attestationPublic, certification]);
  return Buffer.concat([signed, le32(auth.length), auth]);
}
