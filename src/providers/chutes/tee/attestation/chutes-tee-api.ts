import type { z } from "zod";
import { type E2eInstancesResponse, E2eInstancesResponseSchema, type TeeChuteEvidence, TeeChuteEvidenceSchema } from "../wire.js";
import { fetchBounded, type HttpOptions, quoteUpstream } from "./bounded-fetch.js";

/** Chutes' API answered, but not with what we asked for: the status and a bounded, scrubbed text. */
export class ChutesTeeApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = "ChutesTeeApiError";
  }
}

export interface ChutesTeeApiOptions {
  /** `https://api.chutes.ai` (no trailing path). */
  apiBaseUrl: string;
  http: HttpOptions;
  /** The evidence call waits on every instance producing a quote and GPU evidence. */
  evidenceTimeoutMs: number;
  maxInstancesBytes: number;
  maxEvidenceBytes: number;
}

// Chute names (`owner/model`) keep their slash: the evidence route takes a path parameter.
const path = (chute: string) => chute.split("/").map(encodeURIComponent).join("/");

export function createChutesTeeApi(options: ChutesTeeApiOptions) {
  const base = options.apiBaseUrl.replace(/\/+$/, "");

  async function getJson<T>(
    url: string,
    what: string,
    schema: z.ZodType<T>,
    request: { credential: string; maxBytes: number; timeoutMs: number; signal?: AbortSignal | undefined },
  ): Promise<T> {
    const { credential, maxBytes, timeoutMs, signal } = request;
    const secrets = [...(options.http.secrets ?? []), credential];
    const response = await fetchBounded(url, {
      ...options.http,
      timeoutMs,
      signal: signal ?? options.http.signal,
      secrets,
      maxBytes,
      headers: { authorization: `Bearer ${credential}`, accept: "application/json" },
    });
    if (response.status !== 200) {
      const text = quoteUpstream(detailOf(response.body.toString("utf8")), secrets);
      const retryAfter = Number(response.headers.get("retry-after") ?? "NaN");
      throw new ChutesTeeApiError(
        `${what} answered ${response.status} ${meaning(what, response.status)}${text ? `: ${text}` : ""}`,
        response.status,
        Number.isFinite(retryAfter) ? retryAfter : undefined,
      );
    }
    let json: unknown;
    try {
      json = JSON.parse(response.body.toString("utf8"));
    } catch {
      throw new ChutesTeeApiError(`${what} answered something that is not JSON`, 502);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ChutesTeeApiError(
        `${what} answered an unexpected shape (${issue?.path.join(".") || "body"}: ${issue?.message ?? "invalid"})`,
        502,
      );
    }
    return parsed.data;
  }

  return {
    /** `credential`: the Chutes API key or OAuth access token, sent as `Authorization: Bearer`. */
    instances(chute: string, credential: string, signal?: AbortSignal): Promise<E2eInstancesResponse> {
      const request = { credential, maxBytes: options.maxInstancesBytes, timeoutMs: options.http.timeoutMs, signal };
      return getJson(`${base}/e2e/instances/${path(chute)}`, "the E2EE instance list", E2eInstancesResponseSchema, request);
    },
    evidence(chute: string, nonceHex: string, credential: string, signal?: AbortSignal): Promise<TeeChuteEvidence> {
      const request = { credential, maxBytes: options.maxEvidenceBytes, timeoutMs: options.evidenceTimeoutMs, signal };
      return getJson(
        `${base}/chutes/${path(chute)}/evidence?nonce=${nonceHex}`,
        "the TEE evidence endpoint",
        TeeChuteEvidenceSchema,
        request,
      );
    },
  };
}

export type ChutesTeeApi = ReturnType<typeof createChutesTeeApi>;

function meaning(what: string, status: number): string {
  if (status === 401) return "(credential refused)";
  if (status === 403) return "(no access)";
  if (status === 404) return what.includes("evidence") ? "(chute not found, or no access to it)" : "(chute not found, or no E2EE instance)";
  if (status === 429) return "(rate limited)";
  if (status === 400) return "(refused: not a TEE chute, or a bad nonce)";
  if (status === 502) return "(Chutes could not collect the instances' attestation)";
  return "";
}

/** FastAPI's `{"detail": ...}` or whatever text came. */
function detailOf(text: string): string {
  try {
    const parsed = JSON.parse(text) as { detail?: unknown };
    if (typeof parsed.detail === "string") return parsed.detail;
  } catch {}
  return text;
}
