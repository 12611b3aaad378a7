/**
 * What a GPU's detached NRAS token must say (NVIDIA's remote appraisal policies, nvtrust
 * `tests/policies/remote/v3` and ppcie `NVGPURemotePolicy_claims_3.0.json`): measurements match,
 * the report carried our nonce and its signature and certificate chain verified. Claims v3 gives
 * the chain as an object; v2 as a boolean: either is accepted, a missing claim never is.
 */
export interface GpuCheck {
  name: string;
  ok: boolean;
  expected: string;
  seen: string;
}

const CERT_CHAIN_V3 = "x-nvidia-gpu-attestation-report-cert-chain";
const CERT_CHAIN_V2 = "x-nvidia-gpu-attestation-report-cert-chain-validated";

function shown(value: unknown): string {
  if (value === undefined) return "(absent)";
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 120)}…` : text;
}

function check(name: string, expected: string, value: unknown, ok: boolean): GpuCheck {
  return { name, ok, expected, seen: shown(value) };
}

function certChain(claims: Record<string, unknown>): GpuCheck {
  const v3 = claims[CERT_CHAIN_V3];
  if (typeof v3 === "object" && v3 !== null) {
    const status = (v3 as Record<string, unknown>)["x-nvidia-cert-status"];
    const ocsp = (v3 as Record<string, unknown>)["x-nvidia-cert-ocsp-status"];
    return check("cert_chain", 'status "valid", OCSP "good"', { status, ocsp }, status === "valid" && ocsp === "good");
  }
  const v2 = claims[CERT_CHAIN_V2];
  return check("cert_chain", "true", v2, v2 === true);
}

export function sameNonce(value: unknown, nonce: string): boolean {
  return typeof value === "string" && value.toLowerCase() === nonce.toLowerCase();
}

/** The per-GPU checks, in the order a report lists them. */
export function gpuClaimChecks(claims: Record<string, unknown>, nonce: string): GpuCheck[] {
  const flag = (name: string, claim: string) => check(name, "true", claims[claim], claims[claim] === true);
  return [
    check("nonce", nonce, claims.eat_nonce, sameNonce(claims.eat_nonce, nonce)),
    check("measurement", "success", claims.measres, claims.measres === "success"),
    flag("report_nonce_match", "x-nvidia-gpu-attestation-report-nonce-match"),
    flag("report_signature", "x-nvidia-gpu-attestation-report-signature-verified"),
    certChain(claims),
    flag("arch_check", "x-nvidia-gpu-arch-check"),
  ];
}
