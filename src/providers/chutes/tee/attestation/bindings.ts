import { createHash, X509Certificate } from "node:crypto";
import type { CheckResult } from "./report.js";

/** The TLS certificate of the in-TD attestation server: a few hundred bytes, bounded well above. */
export const MAX_CERTIFICATE_BYTES = 16 * 1024;

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest();

/**
 * The value the instance's evidence server puts in report_data[0:32] and hands to NVIDIA as the
 * GPU nonce: SHA-256 over the ASCII of the user's hex nonce followed by the base64 e2e public key
 * (chutes `entrypoint/verify.py`, sek8s `providers/tdx.py`).
 */
export function derivedNonce(nonceHex: string, e2ePubkey: string): Buffer {
  return sha256(`${nonceHex}${e2ePubkey}`);
}

/**
 * report_data[0:32] against the key served for this instance. When it does not match, the
 * detail says whether it matches another instance's key (keys swapped) or none (another nonce).
 */
export function checkNonceBinding(
  reportData: Buffer,
  nonceHex: string,
  instanceId: string,
  e2ePubkey: string,
  otherKeys: ReadonlyMap<string, string>,
): CheckResult {
  const expected = derivedNonce(nonceHex, e2ePubkey);
  const seen = reportData.subarray(0, 32);
  const result = { name: "nonce-binding" as const, expected: expected.toString("hex"), seen: seen.toString("hex") };
  if (seen.equals(expected)) return { ...result, ok: true, detail: `bound to this request's nonce and ${instanceId}'s e2e key` };
  for (const [otherId, otherKey] of otherKeys) {
    if (otherId !== instanceId && seen.equals(derivedNonce(nonceHex, otherKey))) {
      return { ...result, ok: false, detail: `the quote is bound to the e2e key served for instance ${otherId}, not ${instanceId}'s` };
    }
  }
  return {
    ...result,
    ok: false,
    detail: "the quote is not bound to this request's nonce and this instance's e2e key (stale or replayed evidence?)",
  };
}

/** report_data[32:64] against SHA-256 of the SubjectPublicKeyInfo (DER) of the evidence's certificate. */
export function checkCertBinding(reportData: Buffer, certificateBase64: string): CheckResult {
  const expectedText = "SHA-256(SPKI of the evidence certificate)";
  const seen = reportData.subarray(32, 64).toString("hex");
  let spkiHash: string;
  try {
    if (certificateBase64.length > Math.ceil(MAX_CERTIFICATE_BYTES / 3) * 4 + 4) throw new Error("certificate is too large");
    const certificate = new X509Certificate(Buffer.from(certificateBase64, "base64"));
    spkiHash = sha256(certificate.publicKey.export({ type: "spki", format: "der" })).toString("hex");
  } catch (error) {
    return { name: "cert-binding", ok: false, expected: expectedText, seen, detail: `certificate unreadable: ${(error as Error).message}` };
  }
  return spkiHash === seen
    ? { name: "cert-binding", ok: true, expected: spkiHash, seen }
    : {
        name: "cert-binding",
        ok: false,
        expected: spkiHash,
        seen,
        detail: "the quote binds a different TLS key than the certificate served",
      };
}
