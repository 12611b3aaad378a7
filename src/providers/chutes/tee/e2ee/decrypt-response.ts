import { promisify } from "node:util";
import { gunzip as gunzipCallback } from "node:zlib";
import { DEFAULT_MAX_JSON_DEPTH, exceedsJsonDepth } from "../../../../shared/json-depth.js";
import {
  decapsulate,
  decodeBase64Strict,
  deriveKey,
  INFO_RESPONSE,
  MLKEM_CIPHERTEXT_BYTES,
  NONCE_BYTES,
  open,
  type ResponseKey,
  TAG_BYTES,
} from "./e2ee-crypto.js";
import { E2eeError } from "./e2ee-error.js";

const gunzip = promisify(gunzipCallback);

/** A non-streamed answer's body (envelope or blob) is refused past this many bytes. */
export const DEFAULT_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** The gzipped answer may inflate to this many bytes; past it, it is a decompression bomb. */
export const DEFAULT_MAX_INFLATED_BYTES = 32 * 1024 * 1024;

export interface DecryptResponseOptions {
  maxBodyBytes?: number;
  maxInflatedBytes?: number;
  maxJsonDepth?: number;
}

export interface DecryptedResponse {
  /** The instance's answer, as the model server wrote it (parsed JSON, not yet checked for shape). */
  payload: unknown;
  /**
   * The `usage` the relay saw in plaintext beside the blob, for billing. Not authenticated: the
   * payload's own `usage` is the one to trust.
   */
  relayUsage: unknown;
}

/**
 * Chutes' sources disagree on the non-stream body: the Python client reads the raw blob, the
 * instance wraps it as `{"e2e": b64(blob), "usage": {...}}`. A blob starts with KEM ciphertext
 * (random bytes), so a body that parses as JSON with an `e2e` string is the envelope.
 */
function unwrap(body: Uint8Array): { blob: Uint8Array; relayUsage: unknown } {
  let first = 0;
  while (first < body.length && (body[first] === 0x20 || body[first] === 0x0a || body[first] === 0x0d || body[first] === 0x09)) first++;
  if (body[first] === 0x7b) {
    let envelope: unknown;
    try {
      envelope = JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("utf8"));
    } catch {
      envelope = undefined; // a blob whose first byte happens to be "{"
    }
    if (typeof envelope === "object" && envelope !== null) {
      const { e2e, usage } = envelope as { e2e?: unknown; usage?: unknown };
      if (typeof e2e !== "string") throw new E2eeError("the encrypted answer is JSON without an `e2e` blob", "e2ee_protocol");
      return { blob: decodeBase64Strict(e2e, "the answer's `e2e` field"), relayUsage: usage };
    }
  }
  return { blob: body, relayUsage: undefined };
}

/** Decrypt a non-streamed E2EE answer; any failure is an `E2eeError`, never the bytes as they came. */
export async function decryptResponse(
  body: Uint8Array,
  responseKey: ResponseKey,
  options: DecryptResponseOptions = {},
): Promise<DecryptedResponse> {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  if (body.length > maxBodyBytes) throw new E2eeError(`the encrypted answer exceeds ${maxBodyBytes} bytes`, "e2ee_too_large");
  const { blob, relayUsage } = unwrap(body);
  if (blob.length < MLKEM_CIPHERTEXT_BYTES + NONCE_BYTES + TAG_BYTES) {
    throw new E2eeError(`the encrypted answer is too short to be an E2EE blob (${blob.length} bytes)`, "e2ee_protocol");
  }
  const kemCiphertext = blob.subarray(0, MLKEM_CIPHERTEXT_BYTES);
  const key = deriveKey(decapsulate(kemCiphertext, responseKey), kemCiphertext, INFO_RESPONSE);
  const compressed = open(key, blob.subarray(MLKEM_CIPHERTEXT_BYTES), "the encrypted answer");
  const maxInflatedBytes = options.maxInflatedBytes ?? DEFAULT_MAX_INFLATED_BYTES;
  let inflated: Buffer;
  try {
    inflated = await gunzip(compressed, { maxOutputLength: maxInflatedBytes });
  } catch (error) {
    if (error instanceof RangeError || (error as { code?: string }).code === "ERR_BUFFER_TOO_LARGE") {
      throw new E2eeError(`the decrypted answer inflates past ${maxInflatedBytes} bytes`, "e2ee_too_large", error);
    }
    throw new E2eeError("the decrypted answer is not gzip", "e2ee_protocol", error);
  }
  const text = inflated.toString("utf8");
  const maxJsonDepth = options.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
  if (exceedsJsonDepth(text, maxJsonDepth)) throw new E2eeError(`the decrypted answer nests deeper than ${maxJsonDepth}`, "e2ee_too_large");
  try {
    return { payload: JSON.parse(text), relayUsage };
  } catch (error) {
    throw new E2eeError("the decrypted answer is not JSON", "e2ee_protocol", error);
  }
}
