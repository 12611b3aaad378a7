import { errorCode, UpstreamError } from "../../shared/errors.js";

const RETRYABLE_STATUS = new Set([408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status);
}

/** The status we answer with: client errors pass through, server trouble is 502/503/504. */
function ourStatus(upstream: number): number {
  if (upstream === 503 || upstream === 504) return upstream;
  // The provider refusing *our* credential is a gateway-side problem: a 401 would tell the
  // client its gateway token is wrong.
  if (upstream === 401 || upstream === 403) return 502;
  if (upstream >= 500) return 502;
  if (upstream >= 400) return upstream;
  return 502;
}

const TYPE_BY_STATUS: Record<number, string> = {
  400: "invalid_request_error",
  401: "upstream_authentication_error",
  402: "insufficient_quota",
  403: "upstream_authentication_error",
  404: "not_found_error",
  413: "invalid_request_error",
  422: "invalid_request_error",
  429: "rate_limit_error",
};

function textOf(value: unknown): string | undefined {
  if (typeof value === "string") return value.trim() || undefined;
  if (Array.isArray(value)) {
    // FastAPI validation errors: [{ loc, msg, type }]
    const parts = value
      .map((item) => (typeof item === "object" && item && "msg" in item ? String(item.msg) : textOf(item)))
      .filter(Boolean);
    return parts.length ? parts.join("; ") : undefined;
  }
  if (typeof value === "object" && value !== null) {
    const record = value as Record<string, unknown>;
    return textOf(record.message) ?? textOf(record.detail) ?? textOf(record.error) ?? textOf(record.error_description);
  }
  return undefined;
}

/** Pull a message and code out of any error body shape: OpenAI, FastAPI, bare strings, HTML, nothing. */
export function parseErrorBody(text: string): { message?: string; code?: string; param?: string } {
  const trimmed = text.trim();
  if (!trimmed) return {};
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      const body = JSON.parse(trimmed) as Record<string, unknown>;
      const error = body.error;
      const nested = typeof error === "object" && error !== null ? (error as Record<string, unknown>) : undefined;
      const code = nested?.code ?? body.code ?? (typeof error === "string" && /^[a-z_]+$/.test(error) ? error : undefined);
      const param = nested?.param;
      return {
        message: textOf(nested) ?? textOf(body),
        ...(typeof code === "string" || typeof code === "number" ? { code: String(code) } : {}),
        ...(typeof param === "string" ? { param } : {}),
      };
    } catch {
      // not JSON after all
    }
  }
  if (/^<(!doctype|html)/i.test(trimmed)) {
    const title = /<title>([^<]*)<\/title>/i.exec(trimmed)?.[1]?.trim();
    return { message: title ? `HTML error page: ${title}` : "HTML error page" };
  }
  return { message: trimmed.length > 300 ? `${trimmed.slice(0, 300)}…` : trimmed };
}

export interface UpstreamHttpErrorInput {
  providerId: string;
  status: number;
  body: string;
  retryAfter?: string | undefined;
}

export function upstreamHttpError({ providerId, status, body, retryAfter }: UpstreamHttpErrorInput): UpstreamError {
  const parsed = parseErrorBody(body);
  const seconds = retryAfter ? Number(retryAfter) : Number.NaN;
  const message = `${providerId} returned HTTP ${status}${parsed.message ? `: ${parsed.message}` : ""}`;
  return new UpstreamError(message, {
    status: ourStatus(status),
    type: TYPE_BY_STATUS[status] ?? (status >= 500 ? "upstream_error" : "invalid_request_error"),
    code: parsed.code ?? null,
    param: parsed.param ?? null,
    retryable: isRetryableStatus(status),
    upstreamStatus: status,
    ...(Number.isFinite(seconds) ? { retryAfterSeconds: seconds } : {}),
  });
}

/** Network-level failures: refused, reset, DNS, timeouts. All worth trying another model for. */
export function upstreamNetworkError(providerId: string, error: unknown): UpstreamError {
  const code = errorCode(error) ?? errorCode((error as { cause?: unknown })?.cause);
  const timedOut =
    code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT" || code === "UND_ERR_CONNECT_TIMEOUT" || code === "ETIMEDOUT";
  if (timedOut) {
    return new UpstreamError(`${providerId} did not answer in time`, {
      status: 504,
      type: "timeout_error",
      code: "upstream_timeout",
      retryable: true,
      cause: error,
    });
  }
  const detail = code ?? (error as Error)?.message ?? "unknown error";
  return new UpstreamError(`cannot reach ${providerId} (${detail})`, {
    status: 502,
    code: "upstream_unreachable",
    retryable: true,
    cause: error,
  });
}

/** An error object sent inside a stream after it started (`data: {"error": ...}`). */
export function upstreamStreamError(providerId: string, payload: unknown): UpstreamError {
  const parsed = parseErrorBody(JSON.stringify(payload));
  const nested = (payload as { error?: { code?: unknown; status?: unknown } }).error;
  const status = typeof nested?.code === "number" ? nested.code : typeof nested?.status === "number" ? nested.status : 502;
  return new UpstreamError(`${providerId} failed mid-stream: ${parsed.message ?? "unknown error"}`, {
    status: ourStatus(status),
    code: parsed.code ?? "upstream_stream_error",
    retryable: isRetryableStatus(status),
    upstreamStatus: status,
  });
}
