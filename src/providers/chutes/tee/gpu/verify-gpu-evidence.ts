import { boundedFetch, type FetchLike } from "./bounded-fetch.js";
import { type ParsedJwt, parseJwt, timeProblem, verifyEs384 } from "./es384-jwt.js";
import { type GpuCheck, gpuClaimChecks, sameNonce } from "./gpu-claims.js";
import { NrasJwks } from "./nras-jwks.js";

export type { GpuCheck } from "./gpu-claims.js";

/** One GPU's evidence as an instance serves it (nvtrust `collect_gpu_evidence_remote`). */
export interface GpuEvidenceItem {
  evidence: string;
  certificate: string;
  arch: string;
}

export interface GpuVerdict {
  /** Every GPU reported passed, and at least one did. */
  ok: boolean;
  /** One line: the first failed check with what was expected and seen, or what passed. */
  detail: string;
  checks: GpuCheck[];
  gpus: Array<{ id: string; ok: boolean; hwmodel: string | undefined }>;
}

export interface GpuVerifierOptions {
  /** NVIDIA's remote attestation service or a compatible one (default `https://nras.attestation.nvidia.com`). */
  baseUrl?: string | undefined;
  fetch?: FetchLike | undefined;
  /** Per call, the attestation and the key set alike (default 30 s, as NVIDIA's SDK). */
  timeoutMs?: number | undefined;
  maxResponseBytes?: number | undefined;
  /** Certificates that must anchor the service's signing keys (see `NrasJwks`); none: TLS to `baseUrl` anchors them. */
  pinnedRoots?: ReadonlyArray<string | Uint8Array> | undefined;
  jwksTtlMs?: number | undefined;
  /** An NVIDIA service key, sent as a bearer token when set. */
  serviceKey?: string | undefined;
  clockSkewSeconds?: number | undefined;
  maxGpus?: number | undefined;
  maxEvidenceChars?: number | undefined;
  now?: (() => number) | undefined;
}

export const DEFAULT_NRAS_URL = "https://nras.attestation.nvidia.com";
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;
const DEFAULT_MAX_GPUS = 16;
const DEFAULT_MAX_EVIDENCE_CHARS = 512 * 1024;
const DEFAULT_SKEW_SECONDS = 60;
const CLAIMS_VERSION = "3.0";

export interface GpuVerifier {
  /** `nonce` is the hex value the GPUs signed: for Chutes, SHA-256(nonce_hex ‖ e2e_pubkey), not the caller's nonce. */
  verify(input: { nonce: string; evidence: readonly GpuEvidenceItem[] }, signal?: AbortSignal): Promise<GpuVerdict>;
  readonly jwks: NrasJwks;
}

function verdict(checks: GpuCheck[], gpus: GpuVerdict["gpus"]): GpuVerdict {
  const failed = checks.find((check) => !check.ok);
  const ok = !failed && gpus.length > 0 && gpus.every((gpu) => gpu.ok);
  const detail = failed
    ? `${failed.name}: expected ${failed.expected}, saw ${failed.seen}`
    : `${gpus.length} GPU(s) attested: ${gpus.map((gpu) => `${gpu.id} ${gpu.hwmodel ?? "?"}`).join(", ")}`;
  return { ok, detail, checks, gpus };
}

const fail = (checks: GpuCheck[], name: string, expected: string, seen: string) =>
  verdict([...checks, { name, ok: false, expected, seen }], []);

export function createGpuVerifier(options: GpuVerifierOptions = {}): GpuVerifier {
  const base = new URL(options.baseUrl ?? DEFAULT_NRAS_URL);
  const attestUrl = new URL("/v3/attest/gpu", base).toString();
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  const skew = options.clockSkewSeconds ?? DEFAULT_SKEW_SECONDS;
  const jwks = new NrasJwks({
    jwksUrl: new URL("/.well-known/jwks.json", base).toString(),
    fetch: options.fetch,
    timeoutMs,
    ttlMs: options.jwksTtlMs,
    pinnedRoots: options.pinnedRoots,
    now,
  });

  /** Signature, then time: a token is only read once its signer is known. */
  async function tokenChecks(prefix: string, jwt: ParsedJwt): Promise<GpuCheck[]> {
    const kid = typeof jwt.header.kid === "string" ? jwt.header.kid : "";
    const entry = await jwks.key(kid);
    const signed = "key" in entry && verifyEs384(jwt, entry.key);
    const signature: GpuCheck = {
      name: `${prefix}signature`,
      ok: signed,
      expected: "ES384 by a key in the verifier's key set",
      seen: "problem" in entry ? entry.problem : signed ? "verified" : `does not verify (alg ${String(jwt.header.alg)})`,
    };
    if (!signed) return [signature];
    const late = timeProblem(jwt.claims, now() / 1000, skew);
    return [signature, { name: `${prefix}validity`, ok: !late, expected: "within exp/nbf", seen: late ?? "current" }];
  }

  async function verify(input: { nonce: string; evidence: readonly GpuEvidenceItem[] }, signal?: AbortSignal): Promise<GpuVerdict> {
    const { nonce, evidence } = input;
    if (!/^[0-9a-fA-F]{64}$/.test(nonce)) return fail([], "gpu.nonce", "64 hex digits", `${nonce.length} characters`);
    const maxGpus = options.maxGpus ?? DEFAULT_MAX_GPUS;
    const maxChars = options.maxEvidenceChars ?? DEFAULT_MAX_EVIDENCE_CHARS;
    if (!evidence.length || evidence.length > maxGpus)
      return fail([], "gpu.evidence", `1..${maxGpus} GPU reports`, String(evidence.length));
    const arch = evidence[0]?.arch;
    const malformed = evidence.find(
      (item) =>
        typeof item?.evidence !== "string" ||
        typeof item.certificate !== "string" ||
        item.arch !== arch ||
        item.evidence.length + item.certificate.length > maxChars,
    );
    if (typeof arch !== "string" || !arch || malformed)
      return fail([], "gpu.evidence", "evidence, certificate and one arch per GPU, bounded", "malformed or mixed");

    const headers: Record<string, string> = { "content-type": "application/json", accept: "application/json" };
    if (options.serviceKey) headers.authorization = `Bearer ${options.serviceKey}`;
    const body = JSON.stringify({
      nonce,
      evidence_list: evidence.map((item) => ({ evidence: item.evidence, certificate: item.certificate })),
      arch,
      claims_version: CLAIMS_VERSION,
    });
    const answer = await boundedFetch(
      attestUrl,
      { method: "POST", headers, body },
      { fetch: options.fetch, timeoutMs, maxBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, signal },
    );
    if (!answer.ok) return fail([], "gpu.verifier", `an answer from ${base.origin}`, answer.reason);
    if (answer.status !== 200) return fail([], "gpu.verifier", "HTTP 200", `HTTP ${answer.status}`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.text);
    } catch {
      parsed = undefined;
    }
    // [["JWT", overall], {"GPU-0": detached, ...}]
    const pair = Array.isArray(parsed) ? (parsed[0] as unknown) : undefined;
    const overall = Array.isArray(pair) && pair[0] === "JWT" ? parseJwt(pair[1]) : undefined;
    const detached = Array.isArray(parsed) ? (parsed[1] as unknown) : undefined;
    if (!overall || typeof detached !== "object" || detached === null || Array.isArray(detached)) {
      return fail([], "gpu.verifier", '[["JWT", token], {GPU-n: token}]', "another shape");
    }

    const checks = await tokenChecks("gpu.overall.", overall);
    if (checks.some((check) => !check.ok)) return verdict(checks, []);
    const result = overall.claims["x-nvidia-overall-att-result"];
    checks.push({ name: "gpu.overall.result", ok: result === true, expected: "true", seen: JSON.stringify(result) ?? "(absent)" });
    checks.push({
      name: "gpu.overall.nonce",
      ok: sameNonce(overall.claims.eat_nonce, nonce),
      expected: nonce,
      seen: String(overall.claims.eat_nonce),
    });
    const entries = Object.entries(detached as Record<string, unknown>);
    checks.push({
      name: "gpu.count",
      ok: entries.length === evidence.length,
      expected: `${evidence.length} GPU report(s)`,
      seen: String(entries.length),
    });

    const gpus: GpuVerdict["gpus"] = [];
    for (const [id, token] of entries.slice(0, maxGpus)) {
      const prefix = `gpu[${id.slice(0, 40)}].`;
      const jwt = parseJwt(token);
      if (!jwt) {
        checks.push({ name: `${prefix}token`, ok: false, expected: "a JWT", seen: "something else" });
        gpus.push({ id, ok: false, hwmodel: undefined });
        continue;
      }
      const gpuChecks = await tokenChecks(prefix, jwt);
      if (gpuChecks.every((check) => check.ok)) {
        for (const check of gpuClaimChecks(jwt.claims, nonce)) gpuChecks.push({ ...check, name: `${prefix}${check.name}` });
      }
      checks.push(...gpuChecks);
      const hwmodel = typeof jwt.claims.hwmodel === "string" ? jwt.claims.hwmodel : undefined;
      gpus.push({ id, ok: gpuChecks.every((check) => check.ok), hwmodel });
    }
    return verdict(checks, gpus);
  }

  return { verify, jwks };
}
