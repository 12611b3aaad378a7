import { type TeeMeasurement, TeeMeasurementSchema } from "../wire.js";
import { AttestationFetchError, fetchBounded, type HttpOptions, quoteUpstream } from "./bounded-fetch.js";
import type { TdReport } from "./quote-check.js";
import type { CheckResult } from "./report.js";

const RTMR_NAMES = ["RTMR0", "RTMR1", "RTMR2", "RTMR3"] as const;
const HEX48 = /^[0-9a-fA-F]{96}$/;

export interface AcceptedMeasurement {
  label: string;
  mrtd: string;
  rtmrs: [string, string, string, string];
  gpuCount: number | undefined;
}

/**
 * Keeps the TDX entries usable for a match and skips the rest (other TEE types, missing RTMRs,
 * fields of a newer chutes-api): the list is a bare JSON array whose entry shape varies by version.
 * Quotes served as evidence are taken at runtime, so they are compared with `runtime_rtmrs`, as
 * chutes-api does for non-boot quotes (`api/server/util.py::verify_measurements`).
 */
export function toAcceptedMeasurements(list: unknown): AcceptedMeasurement[] {
  if (!Array.isArray(list)) throw new Error("the measurement list is not a JSON array");
  const accepted: AcceptedMeasurement[] = [];
  for (const item of list.slice(0, 1000)) {
    const parsed = TeeMeasurementSchema.safeParse(item);
    if (!parsed.success) continue;
    const entry: TeeMeasurement = parsed.data;
    if (entry.tee_type && entry.tee_type.toLowerCase() !== "tdx") continue;
    const rtmrs = RTMR_NAMES.map((name) => entry.runtime_rtmrs[name] ?? entry.runtime_rtmrs[name.toLowerCase()]);
    if (!HEX48.test(entry.mrtd) || !rtmrs.every((value) => value !== undefined && HEX48.test(value))) continue;
    accepted.push({
      label: [entry.name, entry.version].filter(Boolean).join(" ") || "unnamed",
      mrtd: entry.mrtd.toLowerCase(),
      rtmrs: rtmrs.map((value) => value!.toLowerCase()) as AcceptedMeasurement["rtmrs"],
      gpuCount: entry.gpu_count ?? undefined,
    });
  }
  return accepted;
}

export function checkMeasurements(
  report: TdReport,
  accepted: readonly AcceptedMeasurement[],
): CheckResult & { match?: AcceptedMeasurement } {
  const seen = `MRTD ${report.mrtd}, RTMR0..3 ${report.rtmrs.join(" ")}`;
  const match = accepted.find((entry) => entry.mrtd === report.mrtd && entry.rtmrs.every((value, index) => value === report.rtmrs[index]));
  if (match)
    return {
      name: "measurements",
      ok: true,
      expected: `one of ${accepted.length} accepted measurements`,
      seen,
      detail: `matches ${match.label}`,
      match,
    };
  const sameMrtd = accepted.filter((entry) => entry.mrtd === report.mrtd);
  const detail =
    accepted.length === 0
      ? "no usable accepted measurement"
      : sameMrtd.length === 0
        ? "MRTD is not in the accepted list"
        : `MRTD accepted (${sameMrtd[0]!.label}) but RTMR${sameMrtd[0]!.rtmrs.findIndex((value, index) => value !== report.rtmrs[index])} differs`;
  return { name: "measurements", ok: false, expected: `one of ${accepted.length} accepted measurements`, seen, detail };
}

export interface MeasurementSourceOptions {
  /** A pinned list (same shape as the endpoint's entries): no fetch at all. */
  pinned?: readonly unknown[];
  url: string;
  ttlMs: number;
  maxBytes: number;
  now: () => number;
  http: HttpOptions;
}

export interface MeasurementSource {
  get(signal?: AbortSignal): Promise<AcceptedMeasurement[]>;
}

export function createMeasurementSource(options: MeasurementSourceOptions): MeasurementSource {
  if (options.pinned) {
    const pinned = toAcceptedMeasurements([...options.pinned]);
    if (pinned.length === 0) throw new Error("the pinned TEE measurement list has no usable TDX entry");
    return { get: async () => pinned };
  }
  let cached: { list: AcceptedMeasurement[]; expiresAt: number } | undefined;
  let flight: Promise<AcceptedMeasurement[]> | undefined;
  async function load(signal: AbortSignal | undefined): Promise<AcceptedMeasurement[]> {
    const response = await fetchBounded(options.url, {
      ...options.http,
      signal: signal ?? options.http.signal,
      maxBytes: options.maxBytes,
    });
    if (response.status !== 200) {
      throw new AttestationFetchError(
        `measurement list answered ${response.status}: ${quoteUpstream(response.body.toString("utf8"), options.http.secrets)}`,
      );
    }
    const list = toAcceptedMeasurements(JSON.parse(response.body.toString("utf8")));
    if (list.length === 0) throw new Error("the measurement list has no usable TDX entry");
    cached = { list, expiresAt: options.now() + options.ttlMs };
    return list;
  }
  return {
    async get(signal) {
      if (cached && cached.expiresAt > options.now()) return cached.list;
      flight ??= load(signal).finally(() => {
        flight = undefined;
      });
      return flight;
    },
  };
}
