import { createHash } from "node:crypto";

/**
 * The nonce an instance's GPUs (and its TDX report_data[0:32]) actually sign: the caller's nonce
 * bound to the instance's E2EE key, `sha256((nonce + e2e_pubkey).encode()).hexdigest()` in
 * chutes `entrypoint/verify.py`. NRAS must be asked about this value, not the caller's nonce.
 */
export function boundGpuNonce(nonceHex: string, e2ePubkeyB64: string): string {
  return createHash("sha256")
    .update(nonceHex + e2ePubkeyB64, "utf8")
    .digest("hex");
}
