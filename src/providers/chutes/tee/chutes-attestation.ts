import { ConfigError } from "../../../shared/errors.js";
import type { AttestationContext, AttestationReport, ModelAttestor } from "../../provider.js";
import { createTeeAttestor, type TeeAttestor } from "./attestation/attestor.js";
import { type ChuteReport, describeFailure } from "./attestation/report.js";
import { teeAttestorOptions } from "./tee-settings.js";

/** The chute behind a catalog model: `/e2e/instances/{chute_id}` wants the id; the name serves when none was discovered. */
export function chuteOf(model: { id: string; upstreamId?: string | undefined }): string {
  return model.upstreamId ?? model.id;
}

/** The library's report in the provider spec's terms (no keys, no nonce: nothing to reuse). */
export function toAttestationReport(report: ChuteReport): AttestationReport {
  return {
    target: report.chute,
    ok: report.ok,
    verifiedAt: report.verifiedAt,
    expiresAt: report.expiresAt,
    instances: report.instances.map((instance) => ({
      instanceId: instance.instanceId,
      ok: instance.ok,
      checks: instance.checks.map((check) => ({ ...check })),
      ...(instance.quoteSha256 ? { quoteSha256: instance.quoteSha256 } : {}),
      ...(instance.tcbStatus ? { tcbStatus: instance.tcbStatus } : {}),
      ...(instance.measurement ? { measurement: instance.measurement } : {}),
    })),
    ...(report.error ? { error: { ...report.error } } : {}),
    ...(report.ok ? {} : { failure: describeFailure(report) }),
  };
}

/** The attestation library configured from `models.providers.chutes.tee`; a bad trust anchor is a config error. */
export function createChutesTeeAttestor(context: AttestationContext, onVerdict?: (report: ChuteReport) => void): TeeAttestor {
  const options = teeAttestorOptions(context.config.tee, context);
  try {
    return createTeeAttestor(onVerdict ? { ...options, onVerdict } : options);
  } catch (error) {
    throw new ConfigError(`models.providers.chutes.tee.trustAnchorPem is not a usable certificate (${(error as Error).message})`, {
      code: "tee_trust_anchor_invalid",
    });
  }
}

export function createChutesModelAttestor(context: AttestationContext): ModelAttestor {
  const attestor = createChutesTeeAttestor(context);
  return {
    async verify(model, options = {}) {
      return toAttestationReport(await attestor.verifyChute(chuteOf(model), options));
    },
  };
}
