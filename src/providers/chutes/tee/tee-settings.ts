import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ChutesTeeConfig } from "../../../config/schema.js";
import { ConfigError } from "../../../shared/errors.js";
import type { TeeAttestorOptions } from "./attestation/attestor.js";
import type { GpuVerifier } from "./attestation/instance-verdict.js";
import { createGpuVerifier } from "./gpu/verify-gpu-evidence.js";

/** Default of `tee.failureTtlSeconds`: long enough not to hammer Chutes' rate-limited evidence route. */
export const DEFAULT_FAILURE_TTL_SECONDS = 30;
export const DEFAULT_VERIFIED_TTL_SECONDS = 600;

/**
 * `trustAnchorPem` is PEM text when it holds a PEM block, else the path of a PEM file (`~/` and
 * paths relative to the config file's directory accepted). Read once, when the attestor is made.
 */
export function readTrustAnchor(value: string, configDir: string): string {
  if (value.includes("-----BEGIN")) return value;
  const file = value.startsWith("~/") ? path.join(os.homedir(), value.slice(2)) : path.resolve(configDir, value);
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`models.providers.chutes.tee.trustAnchorPem: cannot read ${file} (${(error as NodeJS.ErrnoException).code})`, {
      code: "tee_trust_anchor_unreadable",
    });
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----"))
    throw new ConfigError(`models.providers.chutes.tee.trustAnchorPem: ${file} holds no PEM certificate`, {
      code: "tee_trust_anchor_invalid",
    });
  return pem;
}

/** The GPU verifier service (NVIDIA's NRAS by default) as the attestation library calls it. */
export function nrasGpuVerifier(baseUrl: string | undefined, fetchImpl?: typeof fetch): GpuVerifier {
  const verifier = createGpuVerifier({ baseUrl, ...(fetchImpl ? { fetch: fetchImpl } : {}) });
  return async (nonce, evidence, signal) => {
    const items = evidence.map((item) => ({ evidence: item.evidence, certificate: item.certificate, arch: item.arch ?? "" }));
    const verdict = await verifier.verify({ nonce, evidence: items }, signal);
    return { ok: verdict.ok, detail: verdict.detail };
  };
}

/** `models.providers.chutes.tee` → the attestation library's options, one to one. */
export function teeAttestorOptions(
  tee: ChutesTeeConfig | undefined,
  context: { configDir: string; credential: () => Promise<string>; fetch?: typeof fetch; now?: () => number },
): TeeAttestorOptions {
  const settings = tee ?? {};
  let trustAnchorPem: string | undefined;
  if (settings.trustAnchorPem) {
    trustAnchorPem = readTrustAnchor(settings.trustAnchorPem, context.configDir);
  }
  return {
    credential: context.credential,
    ...(settings.apiBaseUrl ? { apiBaseUrl: settings.apiBaseUrl } : {}),
    ...(settings.pccsUrl ? { pccsUrl: settings.pccsUrl } : {}),
    ...(trustAnchorPem ? { trustAnchorPem } : {}),
    ...(settings.tcbAllow ? { allowedTcbStatuses: settings.tcbAllow } : {}),
    ...(settings.measurements ? { measurements: { pinned: settings.measurements } } : {}),
    gpuVerifier: nrasGpuVerifier(settings.gpuVerifierUrl, context.fetch),
    verifiedTtlMs: (settings.verifiedTtlSeconds ?? DEFAULT_VERIFIED_TTL_SECONDS) * 1000,
    failureTtlMs: (settings.failureTtlSeconds ?? DEFAULT_FAILURE_TTL_SECONDS) * 1000,
    ...(context.fetch ? { fetch: context.fetch } : {}),
    ...(context.now ? { now: context.now } : {}),
  };
}
