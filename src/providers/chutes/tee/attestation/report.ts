import { UpstreamError } from "../../../../shared/errors.js";

/**
 * What an attestation says, check by check: the CLI prints it, `--json` serialises it, the
 * gateway turns a failure into a 502/503 naming the check. Nothing here holds a credential.
 */
export type CheckName =
  /** The instance is in both the E2EE instance list and the evidence, once, with its own key. */
  | "instance"
  /** CRLs and TCB/QE collateral fetched from the PCCS, signed and current. */
  | "collateral"
  /** The PCK chain in the quote ends at the configured trust anchor. */
  | "root"
  /** DCAP: quote signature by the attestation key, QE report by the PCK, chain, QE identity, TD attributes. */
  | "quote"
  /** The platform's TCB status is in the allow-list. */
  | "tcb"
  /** report_data[0:32] = SHA-256(nonce_hex ‖ e2e_pubkey of this instance). */
  | "nonce-binding"
  /** report_data[32:64] = SHA-256(SPKI DER of the evidence's certificate). */
  | "cert-binding"
  /** MRTD and RTMR0..3 equal one accepted measurement's mrtd and runtime_rtmrs. */
  | "measurements"
  /** Every GPU's evidence accepted by the GPU verifier, under the derived nonce. */
  | "gpu";

export interface CheckResult {
  name: CheckName;
  ok: boolean;
  expected: string;
  seen: string;
  /** Why it failed, or a note (which measurement matched, which GPU verifier). */
  detail?: string;
}

export interface InstanceReport {
  instanceId: string;
  ok: boolean;
  checks: CheckResult[];
  /** The key the E2EE layer may encrypt to, only meaningful when `ok`. */
  e2ePubkey?: string;
  /** SHA-256 of the raw quote: the receipt's reference to exactly what was verified. */
  quoteSha256?: string;
  tcbStatus?: string;
  mrtd?: string;
  /** Name/version of the measurement entry matched. */
  measurement?: string;
}

export interface ChuteReport {
  chute: string;
  ok: boolean;
  /** Epoch ms when the verification ran (a cached report keeps its original time). */
  verifiedAt: number;
  /** Epoch ms after which the report is no longer trusted. */
  expiresAt: number;
  /** The user nonce, 64 hex characters. */
  nonce?: string;
  instances: InstanceReport[];
  /** Instances the evidence endpoint itself could not attest. */
  failedInstanceIds: string[];
  /** Why no instance could be checked at all (API unreachable, 404, 429...). */
  error?: { message: string; status?: number };
}

/** The first failed check of the first instance, or the chute-level error: what a one-line message names. */
export function describeFailure(report: ChuteReport): string {
  if (report.error) return `TEE attestation of ${report.chute} failed: ${report.error.message}`;
  if (report.instances.length === 0) return `TEE attestation of ${report.chute} failed: no E2EE instance to verify`;
  const failures = report.instances
    .filter((instance) => !instance.ok)
    .map((instance) => {
      const check = instance.checks.find((candidate) => !candidate.ok);
      return `${instance.instanceId}: ${check ? `${check.name} check failed${check.detail ? ` (${check.detail})` : ""}` : "failed"}`;
    });
  return `TEE attestation of ${report.chute} failed for every instance: ${failures.join("; ")}`;
}

export function attestedInstances(report: ChuteReport): InstanceReport[] {
  return report.instances.filter((instance) => instance.ok);
}

/**
 * The error a request gets when no instance is attested (there is no plaintext fallback): 503
 * when attestation could not be carried out (API or verifier unreachable, rate-limited), 502 when
 * the evidence was checked and refused. The message names the failed check.
 */
export function attestationError(report: ChuteReport): UpstreamError {
  const unavailable =
    report.error !== undefined && (report.error.status === undefined || report.error.status === 429 || report.error.status >= 500);
  return new UpstreamError(describeFailure(report), {
    status: unavailable ? 503 : 502,
    code: unavailable ? "tee_attestation_unavailable" : "tee_attestation_failed",
    retryable: unavailable,
    ...(report.error?.status ? { upstreamStatus: report.error.status } : {}),
  });
}
