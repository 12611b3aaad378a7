import type { AttestationReceipt } from "../shared/wire.js";

/** The response header naming the attested enclave that computed an end-to-end encrypted answer. */
export const TEE_RECEIPT_HEADER = "x-openclaw-tee";

/**
 * `instance=<id>; quote-sha256=<hex>; tcb=<status>; verified-at=<ISO 8601>; target=<attested deployment>`,
 * each value percent-encoded (they come from upstream and must not break the header).
 */
export function formatTeeReceipt(receipt: AttestationReceipt): string {
  const value = (text: string) => encodeURIComponent(text.slice(0, 256));
  return [
    `instance=${value(receipt.instanceId)}`,
    `quote-sha256=${value(receipt.quoteSha256)}`,
    `tcb=${value(receipt.tcbStatus)}`,
    `verified-at=${new Date(receipt.verifiedAt).toISOString()}`,
    `target=${value(receipt.target)}`,
  ].join("; ");
}
