import { randomBytes, X509Certificate } from "node:crypto";
import { publishAttestation } from "../../../../shared/attestation-events.js";
import type { TeeInstanceEvidence } from "../wire.js";
import { type HttpOptions, quoteUpstream } from "./bounded-fetch.js";
import { createChutesTeeApi } from "./chutes-tee-api.js";
import { type GpuVerifier, verifyInstance } from "./instance-verdict.js";
import { INTEL_SGX_ROOT_CA_PEM } from "./intel-sgx-root-ca.js";
import { createMeasurementSource } from "./measurements.js";
import { createCollateralSource, INTEL_PCS_URL } from "./pccs-collateral.js";
import type { ChuteReport, InstanceReport } from "./report.js";

export const DEFAULT_CHUTES_API_URL = "https://api.chutes.ai";

export interface TeeAttestorOptions {
  /** Chutes' management API (instances, evidence, measurements). Default `https://api.chutes.ai`. */
  apiBaseUrl?: string;
  /** API key or OAuth access token; a function is asked before each verification (token refresh). */
  credential: string | (() => string | Promise<string>);
  /** PCCS serving Intel's v4 paths. Default Intel's PCS. */
  pccsUrl?: string;
  /** PEM of the root the PCK and collateral chains must end at. Default Intel's SGX root CA. */
  trustAnchorPem?: string;
  /** Accepted TCB statuses. Default `["UpToDate"]`. */
  allowedTcbStatuses?: readonly string[];
  /** A pinned list replaces the published one; `url` defaults to `{apiBaseUrl}/servers/tee/measurements`. */
  measurements?: { pinned?: readonly unknown[]; url?: string; ttlMs?: number };
  /** Without one, the gpu check fails: an instance is never accepted on its CPU evidence alone. */
  gpuVerifier?: GpuVerifier;
  /** How long a chute with an attested instance stays trusted. Default 10 min. */
  verifiedTtlMs?: number;
  /** How long a failed verification is remembered, so rate-limited endpoints are not hammered. Default 30 s. */
  failureTtlMs?: number;
  timeoutMs?: number;
  evidenceTimeoutMs?: number;
  now?: () => number;
  fetch?: typeof fetch;
  maxCachedChutes?: number;
  /**
   * Every verdict this attestor makes (passed or refused), once, as it is made; cached answers are
   * not verdicts. The one place verdicts come from: persistence (and metrics) hang off it. Must not throw.
   */
  onVerdict?: (report: ChuteReport) => void;
}

export interface TeeAttestor {
  /** The chute's report, from the cache while it holds, else from a verification shared by concurrent callers. */
  verifyChute(chute: string, options?: { signal?: AbortSignal; fresh?: boolean }): Promise<ChuteReport>;
  /** The cached report if still valid: O(1), for the request path. */
  cached(chute: string): ChuteReport | undefined;
  /** The instance if it passed and the key is the one it was attested with. */
  attestedInstance(chute: string, instanceId: string, e2ePubkey: string): InstanceReport | undefined;
  forget(chute: string): void;
}

export function createTeeAttestor(options: TeeAttestorOptions): TeeAttestor {
  const now = options.now ?? Date.now;
  const apiBaseUrl = (options.apiBaseUrl ?? DEFAULT_CHUTES_API_URL).replace(/\/+$/, "");
  const trustAnchor = new X509Certificate(options.trustAnchorPem ?? INTEL_SGX_ROOT_CA_PEM);
  const credential = async () => (typeof options.credential === "function" ? await options.credential() : options.credential);
  const http: HttpOptions = { timeoutMs: options.timeoutMs ?? 15_000, ...(options.fetch ? { fetch: options.fetch } : {}) };
  const api = createChutesTeeApi({
    apiBaseUrl,
    http,
    evidenceTimeoutMs: options.evidenceTimeoutMs ?? 60_000,
    maxInstancesBytes: 256 * 1024,
    maxEvidenceBytes: 16 * 1024 * 1024,
  });
  // Collateral is signed and carries no credential: following a redirect (to a CDN) is safe.
  const collateral = createCollateralSource({
    pccsUrl: options.pccsUrl ?? INTEL_PCS_URL,
    trustAnchor,
    now,
    http: { ...http, followRedirects: true },
    maxBytes: 1024 * 1024,
  });
  const measurements = createMeasurementSource({
    ...(options.measurements?.pinned ? { pinned: options.measurements.pinned } : {}),
    url: options.measurements?.url ?? `${apiBaseUrl}/servers/tee/measurements`,
    ttlMs: options.measurements?.ttlMs ?? 60 * 60_000,
    maxBytes: 1024 * 1024,
    now,
    http,
  });
  const allowedTcbStatuses = options.allowedTcbStatuses ?? ["UpToDate"];
  const verifiedTtlMs = options.verifiedTtlMs ?? 10 * 60_000;
  const failureTtlMs = options.failureTtlMs ?? 30_000;
  const maxCached = options.maxCachedChutes ?? 256;
  const reports = new Map<string, ChuteReport>();
  const flights = new Map<string, Promise<ChuteReport>>();

  async function verify(chute: string): Promise<ChuteReport> {
    const started = now();
    const failure = (message: string, status?: number, nonce?: string): ChuteReport => ({
      chute,
      ok: false,
      verifiedAt: started,
      expiresAt: started + failureTtlMs,
      ...(nonce ? { nonce } : {}),
      instances: [],
      failedInstanceIds: [],
      error: { message, ...(status ? { status } : {}) },
    });
    let secret: string;
    try {
      secret = await credential();
    } catch (error) {
      return failure(`no Chutes credential: ${quoteUpstream((error as Error).message)}`);
    }
    const nonce = randomBytes(32).toString("hex");
    let listed: Awaited<ReturnType<typeof api.instances>>;
    let evidence: Awaited<ReturnType<typeof api.evidence>>;
    try {
      listed = await api.instances(chute, secret);
      evidence = await api.evidence(chute, nonce, secret);
    } catch (error) {
      return failure((error as Error).message, (error as { status?: number }).status, nonce);
    }
    const accepted = await measurements.get().then(
      (list) => ({ list }),
      (error: Error) => ({ error: error.message }),
    );
    const keys = new Map<string, string>();
    const listedTwice = new Set<string>();
    for (const instance of listed.instances) {
      if (keys.has(instance.instance_id)) listedTwice.add(instance.instance_id);
      keys.set(instance.instance_id, instance.e2e_pubkey);
    }
    const context = {
      nonceHex: nonce,
      keys,
      quote: { collateral, trustAnchor, allowedTcbStatuses, now },
      measurements: accepted,
      gpuVerifier: options.gpuVerifier,
      secrets: [secret],
    };
    const seen = new Map<string, TeeInstanceEvidence[]>();
    for (const item of evidence.evidence) {
      const id = item.instance_id ?? "(no instance_id)";
      seen.set(id, [...(seen.get(id) ?? []), item]);
    }
    const instances = await Promise.all(
      [...seen].map(async ([id, items]): Promise<InstanceReport> => {
        const only = items.length === 1 && !listedTwice.has(id) ? items[0]! : undefined;
        if (!only) {
          const why = items.length > 1 ? `${items.length} evidence items for one instance` : "listed twice by /e2e/instances";
          return {
            instanceId: id,
            ok: false,
            checks: [{ name: "instance", ok: false, expected: "one instance, one evidence item", seen: why, detail: why }],
          };
        }
        return verifyInstance(id, only, context);
      }),
    );
    const failedIds = evidence.failed_instance_ids ?? [];
    for (const id of keys.keys()) {
      if (seen.has(id)) continue;
      const detail = failedIds.includes(id)
        ? "Chutes could not collect this instance's evidence"
        : "the instance is missing from the evidence";
      instances.push({
        instanceId: id,
        ok: false,
        checks: [{ name: "instance", ok: false, expected: "evidence for every listed instance", seen: "no evidence", detail }],
      });
    }
    const ok = instances.some((instance) => instance.ok);
    return {
      chute,
      ok,
      verifiedAt: started,
      expiresAt: now() + (ok ? verifiedTtlMs : failureTtlMs),
      nonce,
      instances,
      failedInstanceIds: failedIds,
    };
  }

  function cached(chute: string): ChuteReport | undefined {
    const report = reports.get(chute);
    if (report && report.expiresAt > now()) return report;
    return undefined;
  }

  return {
    cached,
    attestedInstance(chute, instanceId, e2ePubkey) {
      const report = cached(chute);
      if (!report?.ok) return undefined;
      return report.instances.find((instance) => instance.ok && instance.instanceId === instanceId && instance.e2ePubkey === e2ePubkey);
    },
    forget(chute) {
      reports.delete(chute);
    },
    async verifyChute(chute, callOptions = {}) {
      const hit = callOptions.fresh ? undefined : cached(chute);
      if (hit) return hit;
      let flight = flights.get(chute);
      if (!flight) {
        // The shared verification is bounded by its own time-outs, not by one caller's signal.
        flight = verify(chute)
          .catch((error: unknown) => unexpected(chute, error, now(), failureTtlMs))
          .then((report) => {
            publishAttestation({ provider: "chutes", result: report.ok ? "verified" : report.error ? "unavailable" : "failed" });
            reports.delete(chute);
            if (reports.size >= maxCached) reports.delete(reports.keys().next().value!);
            reports.set(chute, report);
            options.onVerdict?.(report);
            return report;
          })
          .finally(() => flights.delete(chute));
        flights.set(chute, flight);
      }
      return callOptions.signal ? raceSignal(flight, callOptions.signal) : flight;
    },
  };
}

/** A fault of ours (a bug, a module that failed to load) still fails closed, as a report. */
function unexpected(chute: string, error: unknown, at: number, ttlMs: number): ChuteReport {
  const message = `verification broke off: ${quoteUpstream(error instanceof Error ? error.message : String(error))}`;
  return { chute, ok: false, verifiedAt: at, expiresAt: at + ttlMs, instances: [], failedInstanceIds: [], error: { message } };
}

function raceSignal<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
