import { createPublicKey, type KeyObject, X509Certificate } from "node:crypto";
import { boundedFetch, type FetchLike } from "./bounded-fetch.js";

/**
 * The verifier's signing keys (`/.well-known/jwks.json`, entries with `kid` and `x5c`), cached.
 *
 * What anchors them: by default, TLS to the configured verifier URL, as NVIDIA's own SDK does
 * (nvtrust `nras_utils.decode_nras_token` takes `x5c[0]` from the JWKS it fetched). With
 * `pinnedRoots`, each key must also come with an `x5c` chain that verifies, at the time of use,
 * up to one of those certificates, so a key served by anyone else (a proxy, a hijacked host) is
 * refused.
 */
export interface NrasJwksOptions {
  jwksUrl: string;
  fetch?: FetchLike | undefined;
  timeoutMs?: number | undefined;
  maxBytes?: number | undefined;
  /** How long a fetched key set is used before it is fetched again (default 1 h). */
  ttlMs?: number | undefined;
  /** An unknown `kid` triggers a fetch (key rotation), at most this often (default 60 s). */
  refetchIntervalMs?: number | undefined;
  /** PEM (or DER) certificates that must anchor each key's `x5c` chain. */
  pinnedRoots?: ReadonlyArray<string | Uint8Array> | undefined;
  now?: (() => number) | undefined;
}

export const DEFAULT_JWKS_TTL_MS = 60 * 60 * 1000;
const DEFAULT_REFETCH_INTERVAL_MS = 60 * 1000;
const DEFAULT_JWKS_MAX_BYTES = 256 * 1024;
const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_KEYS = 64;
const MAX_CHAIN = 8;

type Entry = { key: KeyObject } | { problem: string };

export class NrasJwks {
  private readonly pinned: X509Certificate[];
  private keys = new Map<string, Entry>();
  private fetchedAt = Number.NEGATIVE_INFINITY;
  private inflight: Promise<string | undefined> | undefined;
  /** How many times the key set was fetched (a cache that works keeps this low). */
  fetches = 0;

  constructor(private readonly options: NrasJwksOptions) {
    this.pinned = (options.pinnedRoots ?? []).map((root) => new X509Certificate(root));
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** The key for `kid`, or why there is none. */
  async key(kid: string): Promise<Entry> {
    const age = this.now() - this.fetchedAt;
    const stale = age > (this.options.ttlMs ?? DEFAULT_JWKS_TTL_MS);
    const unknown = !this.keys.has(kid) && age > (this.options.refetchIntervalMs ?? DEFAULT_REFETCH_INTERVAL_MS);
    if (stale || unknown) {
      const problem = await this.refresh();
      if (problem && !this.keys.has(kid)) return { problem: `the verifier's key set could not be fetched: ${problem}` };
    }
    return this.keys.get(kid) ?? { problem: `no key with kid "${kid.slice(0, 80)}" in the verifier's key set` };
  }

  private refresh(): Promise<string | undefined> {
    this.inflight ??= this.fetchKeys().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetchKeys(): Promise<string | undefined> {
    this.fetches++;
    const result = await boundedFetch(
      this.options.jwksUrl,
      { headers: { accept: "application/json" } },
      {
        fetch: this.options.fetch,
        timeoutMs: this.options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        maxBytes: this.options.maxBytes ?? DEFAULT_JWKS_MAX_BYTES,
      },
    );
    if (!result.ok) return result.reason;
    if (result.status !== 200) return `HTTP ${result.status}`;
    let set: unknown;
    try {
      set = JSON.parse(result.text);
    } catch {
      return "not JSON";
    }
    const list = (set as { keys?: unknown })?.keys;
    if (!Array.isArray(list)) return "no `keys` list";
    const keys = new Map<string, Entry>();
    for (const jwk of list.slice(0, MAX_KEYS)) {
      const kid = (jwk as { kid?: unknown })?.kid;
      if (typeof kid === "string") keys.set(kid, this.toKey(jwk as Record<string, unknown>));
    }
    this.keys = keys;
    this.fetchedAt = this.now();
    return undefined;
  }

  private toKey(jwk: Record<string, unknown>): Entry {
    const x5c = Array.isArray(jwk.x5c) ? jwk.x5c.slice(0, MAX_CHAIN) : undefined;
    let key: KeyObject;
    try {
      if (x5c?.length && typeof x5c[0] === "string") {
        const chain = x5c.map((der) => new X509Certificate(Buffer.from(String(der), "base64")));
        if (this.pinned.length) {
          const problem = this.chainProblem(chain);
          if (problem) return { problem: `key ${String(jwk.kid).slice(0, 80)}: ${problem}` };
        }
        key = chain[0]!.publicKey;
      } else if (this.pinned.length) {
        return { problem: "the key has no x5c chain to check against the pinned roots" };
      } else {
        key = createPublicKey({ key: jwk as import("node:crypto").JsonWebKey, format: "jwk" });
      }
    } catch {
      return { problem: "the key set entry is not a usable key" };
    }
    if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "secp384r1")
      return { problem: "the key is not a P-384 key" };
    return { key };
  }

  /** Each certificate issued and signed by the next, all valid now, the last one pinned or issued by a pinned root. */
  private chainProblem(chain: X509Certificate[]): string | undefined {
    const now = this.now();
    for (const [index, cert] of chain.entries()) {
      if (now < Date.parse(cert.validFrom) || now > Date.parse(cert.validTo))
        return `certificate ${index} of its x5c chain is not valid now`;
      const issuer = chain[index + 1];
      if (issuer && (!issuer.ca || !cert.checkIssued(issuer) || !cert.verify(issuer.publicKey)))
        return `certificate ${index} of its x5c chain is not signed by the next`;
    }
    const last = chain.at(-1)!;
    const anchored = this.pinned.some(
      (root) => root.fingerprint256 === last.fingerprint256 || (root.ca && last.checkIssued(root) && last.verify(root.publicKey)),
    );
    return anchored ? undefined : "its x5c chain does not lead to a pinned root";
  }
}
