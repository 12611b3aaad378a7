import { type KeyObject, verify } from "node:crypto";

/** A compact JWS, split and decoded but not yet trusted. */
export interface ParsedJwt {
  header: { alg?: unknown; kid?: unknown; [name: string]: unknown };
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

const ES384_SIGNATURE_BYTES = 96;

function decodeSegment(segment: string): unknown {
  return JSON.parse(Buffer.from(segment, "base64url").toString("utf8"));
}

/** Split a compact JWS; undefined when it is not one (three base64url parts, JSON header and claims). */
export function parseJwt(token: unknown): ParsedJwt | undefined {
  if (typeof token !== "string") return undefined;
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  const [head, body, signature] = parts as [string, string, string];
  try {
    const header = decodeSegment(head);
    const claims = decodeSegment(body);
    if (typeof header !== "object" || header === null || typeof claims !== "object" || claims === null || Array.isArray(claims))
      return undefined;
    return {
      header: header as ParsedJwt["header"],
      claims: claims as Record<string, unknown>,
      signingInput: `${head}.${body}`,
      signature: Buffer.from(signature, "base64url"),
    };
  } catch {
    return undefined;
  }
}

/**
 * ES384 only, whatever the header says (no `none`, no HMAC with a public key as secret). The
 * signature is JOSE's raw `r ‖ s`, hence `ieee-p1363`.
 */
export function verifyEs384(jwt: ParsedJwt, key: KeyObject): boolean {
  if (jwt.header.alg !== "ES384" || jwt.signature.length !== ES384_SIGNATURE_BYTES) return false;
  try {
    return verify("sha384", Buffer.from(jwt.signingInput, "ascii"), { key, dsaEncoding: "ieee-p1363" }, jwt.signature);
  } catch {
    return false;
  }
}

/** `exp`/`nbf` against `nowSeconds` with some skew; a token without `exp` is refused (NRAS always sets it). */
export function timeProblem(claims: Record<string, unknown>, nowSeconds: number, skewSeconds: number): string | undefined {
  const { exp, nbf } = claims;
  if (typeof exp !== "number") return "has no expiry";
  if (nowSeconds > exp + skewSeconds) return `expired at ${new Date(exp * 1000).toISOString()}`;
  if (typeof nbf === "number" && nowSeconds + skewSeconds < nbf) return `not valid before ${new Date(nbf * 1000).toISOString()}`;
  return undefined;
}
