import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import { ml_kem768 } from "@noble/post-quantum/ml-kem.js";

/**
 * The instance side of Chutes' E2EE (chutes `entrypoint/run.py`), written apart from
 * src/providers/chutes/tee/e2ee on purpose: HKDF and ChaCha20-Poly1305 come from node:crypto
 * (OpenSSL) here and from @noble there, so a shared mistake in either cannot pass the round trip.
 * ML-KEM has no second implementation on Node 20, so both use @noble's.
 */
const KEM_CT = 1088;
const IV = 12;
const TAG = 16;

function key(sharedSecret: Uint8Array, kemCiphertext: Uint8Array, label: string): Buffer {
  return Buffer.from(hkdfSync("sha256", sharedSecret, kemCiphertext.subarray(0, 16), Buffer.from(label, "ascii"), 32));
}

function seal(symmetricKey: Buffer, plaintext: Buffer): Buffer {
  const iv = randomBytes(IV);
  const cipher = createCipheriv("chacha20-poly1305", symmetricKey, iv, { authTagLength: TAG });
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

function unseal(symmetricKey: Buffer, box: Buffer): Buffer {
  const decipher = createDecipheriv("chacha20-poly1305", symmetricKey, box.subarray(0, IV), { authTagLength: TAG });
  decipher.setAuthTag(box.subarray(box.length - TAG));
  return Buffer.concat([decipher.update(box.subarray(IV, box.length - TAG)), decipher.final()]);
}

export interface InstanceKeys {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
  /** As `/e2e/instances` serves it. */
  publicKeyB64: string;
}

export function newInstanceKeys(): InstanceKeys {
  const { publicKey, secretKey } = ml_kem768.keygen();
  return { publicKey, secretKey, publicKeyB64: Buffer.from(publicKey).toString("base64") };
}

export interface OpenedRequest {
  /** The request body without `e2e_response_pk`. */
  body: Record<string, unknown>;
  /** The client's response key, from `e2e_response_pk`. */
  responsePublicKey: Uint8Array;
}

/** Decapsulate, open, gunzip, parse; throws on anything wrong (the instance answers 400). */
export function openRequest(blob: Buffer, secretKey: Uint8Array): OpenedRequest {
  if (blob.length < KEM_CT + IV + TAG) throw new Error("E2E blob too short");
  const kemCiphertext = blob.subarray(0, KEM_CT);
  const sharedSecret = ml_kem768.decapsulate(kemCiphertext, secretKey);
  const plaintext = gunzipSync(unseal(key(sharedSecret, kemCiphertext, "e2e-req-v1"), blob.subarray(KEM_CT)));
  const body = JSON.parse(plaintext.toString("utf8")) as Record<string, unknown>;
  const pk = body.e2e_response_pk;
  delete body.e2e_response_pk;
  if (typeof pk !== "string") throw new Error("no e2e_response_pk");
  return { body, responsePublicKey: Buffer.from(pk, "base64") };
}

/** The non-stream answer blob: `kem_ct ‖ iv ‖ ct ‖ tag` over gzip(json). */
export function sealResponse(responsePublicKey: Uint8Array, answer: Buffer, gzipped = gzipSync(answer)): Buffer {
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(responsePublicKey);
  return Buffer.concat([cipherText, seal(key(sharedSecret, cipherText, "e2e-resp-v1"), gzipped)]);
}

/** A stream's sealer: `init` is the `e2e_init` payload, `chunk` seals one SSE fragment. */
export function streamSealer(responsePublicKey: Uint8Array): { init: string; chunk(fragment: string | Buffer): string } {
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(responsePublicKey);
  const streamKey = key(sharedSecret, cipherText, "e2e-stream-v1");
  return {
    init: Buffer.from(cipherText).toString("base64"),
    chunk: (fragment) => seal(streamKey, Buffer.isBuffer(fragment) ? fragment : Buffer.from(fragment, "utf8")).toString("base64"),
  };
}
