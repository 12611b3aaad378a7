/** The metadata key that carries the TEE receipt on the Responses WebSocket (reserved: a caller's own value is dropped). */
export const TEE_RECEIPT_METADATA_KEY = "openclaw_tee";

/**
 * A WebSocket has no per-response headers, so the receipt the HTTP path sends as `x-openclaw-tee`
 * travels in `response.metadata.openclaw_tee` (the same text) on every event that carries the
 * response object: `response.created` (before any output, as a header would be) through the
 * terminal event. Without a receipt a caller-supplied `openclaw_tee` is removed, so a value there
 * always comes from the gateway. The stored response is left as it was: only the events change.
 */
export function withReceiptMetadata<T extends { type: string; [field: string]: unknown }>(payload: T, receipt: string | undefined): T {
  const response = payload.response as { metadata?: Record<string, string> | null } | undefined;
  if (typeof response !== "object" || response === null) return payload;
  const metadata = response.metadata ?? {};
  if (receipt === undefined && !(TEE_RECEIPT_METADATA_KEY in metadata)) return payload;
  const { [TEE_RECEIPT_METADATA_KEY]: _dropped, ...rest } = metadata;
  return {
    ...payload,
    response: { ...response, metadata: receipt === undefined ? rest : { ...rest, [TEE_RECEIPT_METADATA_KEY]: receipt } },
  };
}
