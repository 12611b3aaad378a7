import { z } from "zod";

/**
 * Chutes' TEE / E2EE wire shapes, validated once where they enter (chutes-api `api/e2e/router.py`,
 * `api/server/schemas.py`, `api/chute/router.py`). Unknown fields pass through untouched: the
 * server adds fields between versions and a strict schema would refuse a working answer.
 */

/** `GET /e2e/instances/{chute}`: one E2EE-capable instance with its single-use invoke nonces. */
export const E2eInstanceSchema = z.looseObject({
  instance_id: z.string().min(1).max(200),
  /** Base64 ML-KEM-768 public key, exactly the string hashed into the quote's report_data. */
  e2e_pubkey: z.string().min(1).max(8192),
  nonces: z.array(z.string().max(512)).max(1000),
});
export type E2eInstance = z.infer<typeof E2eInstanceSchema>;

export const E2eInstancesResponseSchema = z.looseObject({
  instances: z.array(E2eInstanceSchema).max(1000),
  nonce_expires_in: z.number().optional(),
  nonce_expires_at: z.number().optional(),
});
export type E2eInstancesResponse = z.infer<typeof E2eInstancesResponseSchema>;

/**
 * One GPU's evidence as sek8s/nvtrust collect it: base64 PEM certificate chain, base64 SPDM
 * report, architecture (nvtrust `cc_admin.py::collect_gpu_evidence_remote`).
 */
export const GpuEvidenceSchema = z.looseObject({
  certificate: z.string().max(1 << 20),
  evidence: z.string().max(1 << 20),
  arch: z.string().max(64).optional(),
});
export type GpuEvidence = z.infer<typeof GpuEvidenceSchema>;

/** `TeeInstanceEvidence`: base64 TDX quote, GPU evidence, base64 DER TLS certificate. */
export const TeeInstanceEvidenceSchema = z.looseObject({
  quote: z.string().max(1 << 20),
  gpu_evidence: z.array(z.record(z.string(), z.unknown())).max(64),
  instance_id: z.string().min(1).max(200).nullable().optional(),
  certificate: z.string().max(1 << 20),
});
export type TeeInstanceEvidence = z.infer<typeof TeeInstanceEvidenceSchema>;

/** `GET /chutes/{chute}/evidence?nonce=<64 hex>` → `TeeChuteEvidence`. */
export const TeeChuteEvidenceSchema = z.looseObject({
  evidence: z.array(TeeInstanceEvidenceSchema).max(1000),
  failed_instance_ids: z.array(z.string().max(200)).max(1000).optional(),
});
export type TeeChuteEvidence = z.infer<typeof TeeChuteEvidenceSchema>;

/**
 * One entry of `GET /servers/tee/measurements` (a bare list). Fields come and go between
 * chutes-api versions (`tee_type`, SEV-SNP fields, `fingerprint`, `profile_id`...): only what the
 * TDX match needs is required, and entries that are not TDX are skipped, not fatal.
 */
export const TeeMeasurementSchema = z.looseObject({
  version: z.string().max(200).optional(),
  name: z.string().max(200).optional(),
  tee_type: z.string().max(32).nullable().optional(),
  mrtd: z.string().max(200),
  boot_rtmrs: z.record(z.string(), z.string().max(200)).optional(),
  runtime_rtmrs: z.record(z.string(), z.string().max(200)),
  expected_gpus: z.array(z.string().max(100)).max(64).optional(),
  gpu_count: z.number().int().nullable().optional(),
});
export type TeeMeasurement = z.infer<typeof TeeMeasurementSchema>;
