import { type GpuEvidence, GpuEvidenceSchema, type TeeInstanceEvidence } from "../wire.js";
import { checkCertBinding, checkNonceBinding, derivedNonce } from "./bindings.js";
import { quoteUpstream } from "./bounded-fetch.js";
import { type AcceptedMeasurement, checkMeasurements } from "./measurements.js";
import { checkQuote, decodeQuote, type QuoteCheckOptions } from "./quote-check.js";
import type { CheckResult, InstanceReport } from "./report.js";

/**
 * Verifies every GPU of one instance, e.g. through NVIDIA's remote attestation service. It gets
 * the DERIVED nonce (hex of SHA-256(nonce_hex ‖ e2e_pubkey), what the instance handed to the GPU
 * SDK), never the user's nonce. `ok` only when every GPU passes.
 */
export type GpuVerifier = (
  derivedNonceHex: string,
  gpuEvidence: GpuEvidence[],
  signal?: AbortSignal,
) => Promise<{ ok: boolean; detail: string }>;

export interface InstanceContext {
  nonceHex: string;
  /** instance_id → e2e_pubkey, as `/e2e/instances` served them for this verification. */
  keys: ReadonlyMap<string, string>;
  quote: QuoteCheckOptions;
  measurements: { list: AcceptedMeasurement[] } | { error: string };
  gpuVerifier: GpuVerifier | undefined;
  /** Kept out of the GPU verifier's texts, which end up in reports. */
  secrets: readonly string[];
  signal?: AbortSignal;
}

const failed = (name: CheckResult["name"], expected: string, seen: string, detail: string): CheckResult => ({
  name,
  ok: false,
  expected,
  seen,
  detail,
});

/** Every check on one instance's evidence; the instance passes only when all of them pass. */
export async function verifyInstance(instanceId: string, evidence: TeeInstanceEvidence, context: InstanceContext): Promise<InstanceReport> {
  const e2ePubkey = context.keys.get(instanceId);
  const checks: CheckResult[] = [];
  if (e2ePubkey === undefined) {
    checks.push(
      // /e2e/instances offers at most 5 instances at random: the others have no key to check the binding against.
      failed(
        "instance",
        "listed by /e2e/instances",
        "only in the evidence",
        "no e2e key was served for this instance (not among those /e2e/instances offered)",
      ),
    );
    return { instanceId, ok: false, checks };
  }
  const duplicateOf = [...context.keys].find(([otherId, key]) => otherId !== instanceId && key === e2ePubkey)?.[0];
  checks.push(
    duplicateOf
      ? failed("instance", "an e2e key of its own", `the key also served for ${duplicateOf}`, "one e2e key served for two instances")
      : { name: "instance", ok: true, expected: "listed once, with its own e2e key", seen: "listed" },
  );

  let quoteBytes: Buffer | undefined;
  try {
    quoteBytes = decodeQuote(evidence.quote);
  } catch (error) {
    checks.push(failed("quote", "a TDX quote", "unreadable", (error as Error).message));
  }
  const quoted = quoteBytes ? await checkQuote(quoteBytes, { ...context.quote, signal: context.signal }) : undefined;
  if (quoted) checks.push(...quoted.checks);
  const report = quoted?.report;

  let measurement: AcceptedMeasurement | undefined;
  if (report) {
    checks.push(checkNonceBinding(report.reportData, context.nonceHex, instanceId, e2ePubkey, context.keys));
    checks.push(checkCertBinding(report.reportData, evidence.certificate));
    if ("error" in context.measurements) {
      checks.push(failed("measurements", "an accepted measurement list", "unavailable", context.measurements.error));
    } else {
      const result = checkMeasurements(report, context.measurements.list);
      measurement = result.match;
      const { match: _match, ...check } = result;
      checks.push(check);
    }
  } else {
    for (const name of ["nonce-binding", "cert-binding", "measurements"] as const)
      checks.push(failed(name, "a parsed TD report", "none", "no readable quote"));
  }

  checks.push(await checkGpus(e2ePubkey, evidence.gpu_evidence, measurement, context));
  const ok = checks.every((check) => check.ok);
  return {
    instanceId,
    ok,
    checks,
    e2ePubkey,
    ...(quoted?.quoteSha256 ? { quoteSha256: quoted.quoteSha256 } : {}),
    ...(quoted?.tcbStatus ? { tcbStatus: quoted.tcbStatus } : {}),
    ...(report ? { mrtd: report.mrtd } : {}),
    ...(measurement ? { measurement: measurement.label } : {}),
  };
}

async function checkGpus(
  e2ePubkey: string,
  raw: Record<string, unknown>[],
  measurement: AcceptedMeasurement | undefined,
  context: InstanceContext,
): Promise<CheckResult> {
  const nonce = derivedNonce(context.nonceHex, e2ePubkey).toString("hex");
  const expected = `every GPU accepted under nonce ${nonce}`;
  if (!context.gpuVerifier) return failed("gpu", expected, "not checked", "no GPU verifier configured");
  if (raw.length === 0) return failed("gpu", expected, "no GPU evidence", "the instance reported no GPU");
  const items: GpuEvidence[] = [];
  for (const item of raw) {
    const parsed = GpuEvidenceSchema.safeParse(item);
    if (!parsed.success) return failed("gpu", expected, "malformed GPU evidence", "a GPU evidence item lacks certificate/evidence");
    items.push(parsed.data);
  }
  if (measurement?.gpuCount && items.length > measurement.gpuCount) {
    return failed("gpu", expected, `${items.length} GPUs`, `${measurement.label} has ${measurement.gpuCount} GPUs`);
  }
  try {
    const verdict = await context.gpuVerifier(nonce, items, context.signal);
    const detail = quoteUpstream(String(verdict.detail ?? ""), context.secrets);
    return verdict.ok === true
      ? { name: "gpu", ok: true, expected, seen: `${items.length} GPU(s) accepted`, detail }
      : failed("gpu", expected, `${items.length} GPU(s), refused`, detail);
  } catch (error) {
    return failed("gpu", expected, "verifier error", quoteUpstream((error as Error).message ?? String(error), context.secrets));
  }
}
