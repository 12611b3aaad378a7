import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
import {
  decodeBase64Strict,
  deriveKey,
  encapsulate,
  encodeBase64,
  INFO_REQUEST,
  MLKEM_CIPHERTEXT_BYTES,
  MLKEM_PUBLIC_KEY_BYTES,
  newResponseKeyPair,
  type ResponseKey,
  seal,
} from "./e2ee-crypto.js";
import { E2eeError } from "./e2ee-error.js";

const gzip = promisify(gzipCallback);

export interface EncryptedRequest {
  /** `mlkem_ct[1088] ‖ nonce12 ‖ ciphertext ‖ tag16`, the body of `POST /e2e/invoke`. */
  body: Uint8Array;
  /** Keeps the secret half of the `e2e_response_pk` sent inside `body`: only it opens the answer. */
  responseKey: ResponseKey;
}

/**
 * Encrypt an OpenAI request body to an instance's ML-KEM-768 key. The plaintext is the gzipped
 * JSON of `payload` plus `e2e_response_pk`, a fresh key the instance encrypts its answer to; as
 * that key travels inside the ciphertext, the relay cannot answer in the instance's name.
 * Compression runs on libuv's pool, not the event loop.
 */
export async function encryptRequest(payload: Record<string, unknown>, instancePubkeyB64: string): Promise<EncryptedRequest> {
  const instanceKey = decodeBase64Strict(instancePubkeyB64, "the instance's e2e public key", "e2ee_bad_key");
  if (instanceKey.length !== MLKEM_PUBLIC_KEY_BYTES) {
    throw new E2eeError(
      `the instance's e2e public key has ${instanceKey.length} bytes, not ML-KEM-768's ${MLKEM_PUBLIC_KEY_BYTES}`,
      "e2ee_bad_key",
    );
  }
  const { kemCiphertext, sharedSecret } = encapsulate(instanceKey);
  const { publicKey, responseKey } = newResponseKeyPair();
  const json = JSON.stringify({ ...payload, e2e_response_pk: encodeBase64(publicKey) });
  const compressed = await gzip(Buffer.from(json, "utf8"));
  const sealed = seal(deriveKey(sharedSecret, kemCiphertext, INFO_REQUEST), compressed);
  const body = new Uint8Array(MLKEM_CIPHERTEXT_BYTES + sealed.length);
  body.set(kemCiphertext, 0);
  body.set(sealed, MLKEM_CIPHERTEXT_BYTES);
  return { body, responseKey };
}
