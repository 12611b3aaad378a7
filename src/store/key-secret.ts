import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
export const KEY_ID_LENGTH = 12;
/** 43 base62 characters carry 256.03 bits. */
export const KEY_SECRET_LENGTH = 43;
const KEY_SHAPE = new RegExp(`^ock_([0-9A-Za-z]{${KEY_ID_LENGTH}})_([0-9A-Za-z]{${KEY_SECRET_LENGTH}})$`);

/** Uniform base62: bytes ≥ 248 (= 4 × 62) are rejected so that no character is likelier than another. */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of randomBytes(length * 2)) {
      if (byte >= 248) continue;
      out += BASE62[byte % 62];
      if (out.length === length) break;
    }
  }
  return out;
}

/**
 * HMAC-SHA256 keyed by a per-key salt. Not a slow KDF (scrypt, argon2): those exist to make
 * guessing low-entropy passwords expensive, and cost tens of milliseconds of CPU, on every
 * request here. A 256-bit random secret cannot be guessed at any hash speed; the salt keeps two
 * stores (or two keys) from sharing hashes and defeats precomputed tables.
 */
export function hashKeySecret(secret: string, salt: string): Buffer {
  return createHmac("sha256", Buffer.from(salt, "base64url")).update(secret).digest();
}

export function newKeyMaterial(): { id: string; secret: string; salt: string; hash: string; prefix: string } {
  const id = randomBase62(KEY_ID_LENGTH);
  const secret = `ock_${id}_${randomBase62(KEY_SECRET_LENGTH)}`;
  const salt = randomBytes(16).toString("base64url");
  return { id, secret, salt, hash: hashKeySecret(secret, salt).toString("base64url"), prefix: `ock_${id.slice(0, 8)}…` };
}

/** The id a presented key claims, or undefined when it is not shaped like one of ours. */
export function keyIdOf(secret: string): string | undefined {
  return KEY_SHAPE.exec(secret)?.[1];
}

const KEY_LENGTH = 4 + KEY_ID_LENGTH + 1 + KEY_SECRET_LENGTH;

/** `keyIdOf` for the request path: a length and two characters instead of a regex (the hash rejects the rest). */
export function claimedKeyId(secret: string): string | undefined {
  if (secret.length !== KEY_LENGTH || !secret.startsWith("ock_") || secret[4 + KEY_ID_LENGTH] !== "_") return undefined;
  return secret.slice(4, 4 + KEY_ID_LENGTH);
}

/** A record's salt and hash decoded once (at load), so a check is one HMAC and a constant-time comparison. */
export interface KeyVerifier {
  salt: Buffer;
  hash: Buffer;
}

export function keyVerifier(record: { salt: string; hash: string }): KeyVerifier {
  return { salt: Buffer.from(record.salt, "base64url"), hash: Buffer.from(record.hash, "base64url") };
}

export function secretMatches(secret: string, verifier: KeyVerifier): boolean {
  const actual = createHmac("sha256", verifier.salt).update(secret).digest();
  return verifier.hash.length === actual.length && timingSafeEqual(verifier.hash, actual);
}
