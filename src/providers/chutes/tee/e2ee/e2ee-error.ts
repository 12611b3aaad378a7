import { UpstreamError } from "../../../../shared/errors.js";

/**
 * What went wrong on the encrypted path. None of these is retried with the same answer, and
 * none is ever "solved" by passing the bytes on as plaintext.
 */
export type E2eeErrorCode =
  /** An authentication tag did not verify: wrong key, or bytes changed on the way. */
  | "e2ee_decrypt_failed"
  /** The bytes are not the protocol's shape (lengths, base64, JSON, event order). */
  | "e2ee_protocol"
  /** Something the outside controls exceeded its bound (body, inflated size, nesting). */
  | "e2ee_too_large"
  /** The instance (or the relay in its name) reported an error inside the stream. */
  | "e2ee_upstream_error"
  /** The key we were handed cannot be encrypted to. */
  | "e2ee_bad_key";

export class E2eeError extends UpstreamError {
  constructor(message: string, code: E2eeErrorCode, cause?: unknown) {
    super(message, { status: 502, code, retryable: false, ...(cause === undefined ? {} : { cause }) });
  }
}
