import { type KeyObject, verify, X509Certificate } from "node:crypto";

/**
 * @phala/dcap-qvl reads the CRLs only for serial numbers (and skips one it cannot parse); it
 * checks neither their signatures nor their dates. A PCCS, or anyone between us and it, could
 * then hand over an empty CRL and hide a revoked PCK. These checks close that gap: each CRL must
 * be signed by its issuer, that issuer must chain to the trust anchor, and the CRL must be current.
 */

interface Tlv {
  tag: number;
  start: number;
  contentStart: number;
  end: number;
}

function readTlv(der: Buffer, offset: number): Tlv {
  if (offset + 2 > der.length) throw new Error("truncated DER");
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let contentStart = offset + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || contentStart + count > der.length) throw new Error("bad DER length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[contentStart + i]!;
    contentStart += count;
  }
  const end = contentStart + length;
  if (end > der.length) throw new Error("truncated DER");
  return { tag, start: offset, contentStart, end };
}

function childrenOf(der: Buffer, parent: Tlv): Tlv[] {
  const items: Tlv[] = [];
  for (let offset = parent.contentStart; offset < parent.end; ) {
    const item = readTlv(der, offset);
    items.push(item);
    offset = item.end;
  }
  return items;
}

const ECDSA_WITH_SHA256 = Buffer.from("06082a8648ce3d040302", "hex");

function parseTime(der: Buffer, tlv: Tlv): number {
  const text = der.subarray(tlv.contentStart, tlv.end).toString("latin1");
  // UTCTime YYMMDDHHMMSSZ (years 50-99 are 19xx), GeneralizedTime YYYYMMDDHHMMSSZ.
  const match =
    tlv.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (!match) throw new Error("bad CRL time");
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  const year = tlv.tag === 0x17 ? (y! >= 50 ? 1900 + y! : 2000 + y!) : y!;
  return Date.UTC(year, mo! - 1, d!, h!, mi!, s!);
}

export interface ParsedCrl {
  tbs: Buffer;
  signature: Buffer;
  thisUpdate: number;
  nextUpdate: number | undefined;
}

export function parseCrl(der: Buffer): ParsedCrl {
  const top = readTlv(der, 0);
  const [tbs, algorithm, signature] = childrenOf(der, top);
  if (!tbs || !algorithm || !signature || signature.tag !== 0x03) throw new Error("not a CRL");
  if (!der.subarray(algorithm.contentStart, algorithm.end).subarray(0, ECDSA_WITH_SHA256.length).equals(ECDSA_WITH_SHA256)) {
    throw new Error("CRL is not signed with ECDSA-SHA256");
  }
  const fields = childrenOf(der, tbs);
  let index = fields[0]?.tag === 0x02 ? 1 : 0; // optional version
  index += 2; // signature algorithm, issuer
  const thisUpdate = fields[index];
  const next = fields[index + 1];
  if (!thisUpdate) throw new Error("CRL without thisUpdate");
  const nextUpdate = next && (next.tag === 0x17 || next.tag === 0x18) ? parseTime(der, next) : undefined;
  return {
    tbs: der.subarray(tbs.start, tbs.end),
    // BIT STRING: one byte of unused bits, then the DER ECDSA signature.
    signature: der.subarray(signature.contentStart + 1, signature.end),
    thisUpdate: parseTime(der, thisUpdate),
    nextUpdate,
  };
}

/** Throws unless `crlDer` is signed by `issuerKey` and current at `nowMs`; returns its nextUpdate. */
export function verifyCrl(crlDer: Buffer, issuerKey: KeyObject, nowMs: number, label: string): number | undefined {
  let crl: ParsedCrl;
  try {
    crl = parseCrl(crlDer);
  } catch (error) {
    throw new Error(`${label} is unreadable (${(error as Error).message})`);
  }
  if (!verify("sha256", crl.tbs, issuerKey, crl.signature)) throw new Error(`${label} signature is invalid`);
  if (crl.thisUpdate > nowMs) throw new Error(`${label} is not valid yet`);
  if (crl.nextUpdate !== undefined && crl.nextUpdate < nowMs) throw new Error(`${label} expired ${new Date(crl.nextUpdate).toISOString()}`);
  return crl.nextUpdate;
}

/** Every certificate of a PEM chain signed by the next, the last by the anchor, all valid at `nowMs`. */
export function verifyIssuerChain(pemChain: string, anchor: X509Certificate, nowMs: number, label: string): X509Certificate[] {
  const pems = pemChain.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0 || pems.length > 8) throw new Error(`${label} has ${pems.length} certificates`);
  const certs = pems.map((pem) => new X509Certificate(pem));
  for (let i = 0; i < certs.length; i++) {
    const cert = certs[i]!;
    const issuer = certs[i + 1] ?? anchor;
    if (!cert.verify(issuer.publicKey)) throw new Error(`${label} does not chain to the trust anchor`);
    if (Date.parse(cert.validFrom) > nowMs || Date.parse(cert.validTo) < nowMs)
      throw new Error(`${label} has a certificate out of its validity`);
  }
  return certs;
}
