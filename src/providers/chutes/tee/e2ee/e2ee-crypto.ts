import { chacha20poly1305 } from "@noble/ciphers/chacha.js";
import { randomBytes } from "@noble/ciphers/utils.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";
import { E2eeError, type E2eeErrorCode } from "./e2ee-error.js";

/**
 * The primitives of Chutes' E2EE (chutes-e2ee `crypto.py`, the instance side in chutes
 * `entrypoint/run.py`): ML-KEM-768 encapsulation, HKDF-SHA256 keyed by the shared secret with the
 * first 16 bytes of the KEM ciphertext as salt and a per-direction label as info, and
 * ChaCha20-Poly1305 with a random 12-byte nonce carried in front of the ciphertext.
 */
export const MLKEM_CIPHERTEXT_BYTES = 1088;
export const MLKEM_PUBLIC_KEY_BYTES = 1184;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

const encoder = new TextEncoder();
export const INFO_REQUEST = encoder.encode("e2e-req-v1");
export const INFO_RESPONSE = encoder.encode("e2e-resp-v1");
export const INFO_STREAM = encoder.encode("e2e-stream-v1");

/** The response half of a request: the ML-KEM secret key whose public key travelled inside the ciphertext. */
export interface ResponseKey {
  readonly secretKey: Uint8Array;
}

export function deriveKey(sharedSecret: Uint8Array, kemCiphertext: Uint8Array, info: Uint8Array): Uint8Array {
  return hkdf(sha256, sharedSecret, kemCiphertext.subarray(0, SALT_BYTES), info, KEY_BYTES);
}

/** `nonce12 ‖ ciphertext ‖ tag16` under `key`. */
export function seal(key: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const nonce = randomBytes(NONCE_BYTES);
  const sealed = chacha20poly1305(key, nonce).encrypt(plaintext);
  const out = new Uint8Array(NONCE_BYTES + sealed.length);
  out.set(nonce, 0);
  out.set(sealed, NONCE_BYTES);
  return out;
}

/** Open `nonce12 ‖ ciphertext ‖ tag16`; any tag failure is an `E2eeError`, never plaintext. */
export function open(key: Uint8Array, box: Uint8Array, what: string): Uint8Array {
  if (box.length < NONCE_BYTES + TAG_BYTES) throw new E2eeError(`${what} is too short to be sealed (${box.length} bytes)`, "e2ee_protocol");
  try {
    return chacha20poly1305(key, box.subarray(0, NONCE_BYTES)).decrypt(box.subarray(NONCE_BYTES));
  } catch (error) {
    throw new E2eeError(`${what} failed authentication: wrong key or altered on the way`, "e2ee_decrypt_failed", error);
  }
}

export function encapsulate(publicKey: Uint8Array): { kemCiphertext: Uint8Array; sharedSecret: Uint8Array } {
  try {
    const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKey);
    return { kemCiphertext: cipherText, sharedSecret };
  } catch (error) {
    throw new E2eeError("the instance's e2e public key is not a valid ML-KEM-768 key", "e2ee_bad_key", error);
  }
}

/**
 * ML-KEM decapsulation never fails on a wrong ciphertext (implicit rejection gives an unrelated
 * secret): the AEAD tag that follows is what refuses it.
 */
export function decapsulate(kemCiphertext: Uint8Array, responseKey: ResponseKey): Uint8Array {
  return ml_kem768.decapsulate(kemCiphertext, responseKey.secretKey);
}

export function newResponseKeyPair(): { publicKey: Uint8Array; responseKey: ResponseKey } {
  const { publicKey, secretKey } = ml_kem768.keygen();
  return { publicKey, responseKey: { secretKey } };
}

/**
 * Standard, padded base64 as Python's `b64encode` writes it, refused rather than guessed at
 * (Buffer.from skips characters it does not know). The round trip is ~10x faster than a regex.
 */
export function decodeBase64Strict(text: string, what: string, code: E2eeErrorCode = "e2ee_protocol"): Uint8Array {
  const bytes = Buffer.from(text, "base64");
  if (bytes.toString("base64") !== text) throw new E2eeError(`${what} is not base64`, code);
  return bytes;
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
