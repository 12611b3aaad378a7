import type { X509Certificate } from "node:crypto";
import type { Collateral } from "@phala/dcap-qvl";
import { AttestationFetchError, describeUrl, fetchBounded, type HttpOptions, quoteUpstream } from "./bounded-fetch.js";
import { verifyCrl, verifyIssuerChain } from "./crl-verify.js";

/** Intel's Provisioning Certification Service; any PCCS serving the same v4 paths can replace it. */
export const INTEL_PCS_URL = "https://api.trustedservices.intel.com";

export interface CollateralSourceOptions {
  pccsUrl: string;
  trustAnchor: X509Certificate;
  now: () => number;
  http: HttpOptions;
  /** Per answer; Intel's largest (the PCK CRL) is tens of kilobytes. */
  maxBytes: number;
  /** Distinct FMSPC/CA pairs kept; a fleet has a handful. */
  maxEntries?: number;
}

export interface CollateralSource {
  /** Collateral for a TDX platform, fetched once and reused until its earliest `nextUpdate`. */
  get(fmspc: string, ca: "platform" | "processor", signal?: AbortSignal): Promise<Collateral>;
  /** PCCS requests made so far (diagnostics). */
  readonly fetches: number;
}

interface Entry {
  collateral: Collateral;
  expiresAt: number;
}

export function createCollateralSource(options: CollateralSourceOptions): CollateralSource {
  const base = options.pccsUrl.replace(/\/+$/, "").replace(/\/(sgx|tdx)\/certification\/v4$/, "");
  const cache = new Map<string, Entry>();
  const flights = new Map<string, Promise<Collateral>>();
  const maxEntries = options.maxEntries ?? 32;
  let fetches = 0;

  async function get(url: string, signal: AbortSignal | undefined) {
    fetches++;
    const response = await fetchBounded(url, { ...options.http, signal: signal ?? options.http.signal, maxBytes: options.maxBytes });
    if (response.status !== 200) {
      throw new AttestationFetchError(
        `PCCS ${describeUrl(url)} answered ${response.status}: ${quoteUpstream(response.body.toString("utf8"))}`,
        response.status,
      );
    }
    return response;
  }

  function header(response: { headers: Headers }, ...names: string[]): string {
    for (const name of names) {
      const value = response.headers.get(name);
      if (value) return decodeURIComponent(value);
    }
    throw new Error(`PCCS answer lacks the ${names[0]} header`);
  }

  async function rootCaCrl(signal: AbortSignal | undefined): Promise<Buffer> {
    // A PCCS serves it; Intel's PCS does not, and the root names where Intel publishes it.
    const point = distributionPoint(options.trustAnchor);
    if (point && base === INTEL_PCS_URL) return crlBytes((await get(point, signal)).body);
    try {
      return crlBytes((await get(`${base}/sgx/certification/v4/rootcacrl`, signal)).body);
    } catch (error) {
      if (!point) throw error;
      return crlBytes((await get(point, signal)).body);
    }
  }

  async function load(fmspc: string, ca: string, signal: AbortSignal | undefined): Promise<Entry> {
    const [pck, tcb, qe, rootCrl] = await Promise.all([
      get(`${base}/sgx/certification/v4/pckcrl?ca=${ca}&encoding=der`, signal),
      get(`${base}/tdx/certification/v4/tcb?fmspc=${fmspc}`, signal),
      get(`${base}/tdx/certification/v4/qe/identity?update=standard`, signal),
      rootCaCrl(signal),
    ]);
    const now = options.now();
    const tcbText = tcb.body.toString("utf8");
    const qeText = qe.body.toString("utf8");
    const tcbInfo = rawMember(tcbText, "tcbInfo");
    const qeIdentity = rawMember(qeText, "enclaveIdentity");
    const collateral: Collateral = {
      pck_crl_issuer_chain: header(pck, "SGX-PCK-CRL-Issuer-Chain"),
      root_ca_crl: rootCrl.toString("hex"),
      pck_crl: crlBytes(pck.body).toString("hex"),
      tcb_info_issuer_chain: header(tcb, "TCB-Info-Issuer-Chain", "SGX-TCB-Info-Issuer-Chain"),
      tcb_info: tcbInfo,
      tcb_info_signature: signatureOf(tcbText),
      qe_identity_issuer_chain: header(qe, "SGX-Enclave-Identity-Issuer-Chain"),
      qe_identity: qeIdentity,
      qe_identity_signature: signatureOf(qeText),
    };
    const crlIssuer = verifyIssuerChain(collateral.pck_crl_issuer_chain, options.trustAnchor, now, "PCK CRL issuer chain")[0]!;
    const deadlines = [
      verifyCrl(rootCrl, options.trustAnchor.publicKey, now, "root CA CRL"),
      verifyCrl(crlBytes(pck.body), crlIssuer.publicKey, now, "PCK CRL"),
      Date.parse((JSON.parse(tcbInfo) as { nextUpdate?: string }).nextUpdate ?? ""),
      Date.parse((JSON.parse(qeIdentity) as { nextUpdate?: string }).nextUpdate ?? ""),
    ].filter((deadline): deadline is number => deadline !== undefined && Number.isFinite(deadline));
    const expiresAt = Math.min(...deadlines);
    if (!(expiresAt > now)) throw new Error("PCCS served collateral that is already past its nextUpdate");
    return { collateral, expiresAt };
  }

  return {
    get fetches() {
      return fetches;
    },
    async get(fmspc, ca, signal) {
      if (!/^[0-9A-Fa-f]{12}$/.test(fmspc)) throw new Error("FMSPC is not 6 bytes of hex");
      const key = `${fmspc.toUpperCase()}|${ca}`;
      const cached = cache.get(key);
      if (cached && cached.expiresAt > options.now()) return cached.collateral;
      const flying = flights.get(key);
      if (flying) return flying;
      const flight = load(fmspc.toUpperCase(), ca, signal)
        .then((entry) => {
          cache.delete(key);
          if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
          cache.set(key, entry);
          return entry.collateral;
        })
        .finally(() => flights.delete(key));
      flights.set(key, flight);
      return flight;
    },
  };
}

/** A CRL as DER, whether the server sent DER, hex (PCCS) or PEM. */
function crlBytes(body: Buffer): Buffer {
  if (body[0] === 0x30) return body;
  const text = body.toString("latin1").trim();
  if (/^([0-9a-fA-F]{2})+$/.test(text)) return Buffer.from(text, "hex");
  const pem = /-----BEGIN X509 CRL-----([\s\S]+?)-----END X509 CRL-----/.exec(text);
  if (pem) return Buffer.from(pem[1]!.replace(/\s+/g, ""), "base64");
  throw new Error("PCCS answered a CRL in no known encoding");
}

function signatureOf(text: string): string {
  const signature = (JSON.parse(text) as { signature?: unknown }).signature;
  if (typeof signature !== "string" || !/^[0-9a-fA-F]{128}$/.test(signature)) throw new Error("PCCS answer lacks a 64-byte signature");
  return signature;
}

/**
 * The exact bytes of a top-level object member: Intel signs the text as served, and a
 * re-serialisation would only match while Intel keeps its JSON compact.
 */
function rawMember(text: string, key: string): string {
  const parsed = JSON.parse(text) as Record<string, unknown>;
  if (typeof parsed[key] !== "object" || parsed[key] === null) throw new Error(`PCCS answer lacks "${key}"`);
  const at = text.indexOf(`"${key}"`);
  const open = text.indexOf("{", at);
  let depth = 0;
  let inString = false;
  for (let i = open; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{") depth++;
    else if (char === "}" && --depth === 0) return text.slice(open, i + 1);
  }
  throw new Error(`PCCS answer has an unterminated "${key}"`);
}

function distributionPoint(cert: X509Certificate): string | undefined {
  // node exposes no CRL distribution points; the URI is plain ASCII inside the DER.
  const match = /https?:\/\/[\x21-\x7e]+?\.(?:der|crl)/.exec(cert.raw.toString("latin1"));
  return match?.[0];
}
