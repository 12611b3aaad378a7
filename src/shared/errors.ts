/**
 * One small error hierarchy. Every error maps to an OpenAI-shaped body and an HTTP
 * status for the gateway, and to one readable line plus an exit code for the CLI.
 */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export interface OpenClawErrorOptions {
  status?: number;
  type?: string;
  code?: string | null;
  param?: string | null;
  exitCode?: number;
  cause?: unknown;
}

export class OpenClawError extends Error {
  readonly status: number;
  readonly type: string;
  readonly code: string | null;
  readonly param: string | null;
  readonly exitCode: number;

  constructor(message: string, options: OpenClawErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.status = options.status ?? 500;
    this.type = options.type ?? "api_error";
    this.code = options.code ?? null;
    this.param = options.param ?? null;
    this.exitCode = options.exitCode ?? 1;
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** The user's configuration (file, environment) is unusable as it stands. */
export class ConfigError extends OpenClawError {
  constructor(message: string, options: OpenClawErrorOptions = {}) {
    super(message, { status: 500, type: "config_error", code: "config_invalid", ...options });
  }
}

/** The request or the command line is wrong: fix the input and try again. */
export class InvalidRequestError extends OpenClawError {
  constructor(message: string, options: OpenClawErrorOptions = {}) {
    super(message, { status: 400, type: "invalid_request_error", ...options });
  }
}

export class AuthenticationError extends OpenClawError {
  constructor(message: string, options: OpenClawErrorOptions = {}) {
    super(message, { status: 401, type: "authentication_error", code: "invalid_api_key", ...options });
  }
}

export class PermissionError extends OpenClawError {
  constructor(message: string, options: OpenClawErrorOptions = {}) {
    super(message, { status: 403, type: "permission_error", ...options });
  }
}

export class NotFoundError extends OpenClawError {
  constructor(message: string, options: OpenClawErrorOptions = {}) {
    super(message, { status: 404, type: "not_found_error", ...options });
  }
}

export class RateLimitError extends OpenClawError {
  readonly retryAfterSeconds: number | undefined;
  /** Extra response headers (a key's `x-ratelimit-*`). */
  readonly headers: Record<string, string>;
  constructor(message: string, options: OpenClawErrorOptions & { retryAfterSeconds?: number; headers?: Record<string, string> } = {}) {
    super(message, { status: 429, type: "rate_limit_error", code: "rate_limit_exceeded", ...options });
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.headers = options.headers ?? {};
  }
}

/** Something between us and the model failed; `retryable` drives fallbacks. */
export class UpstreamError extends OpenClawError {
  readonly retryable: boolean;
  readonly upstreamStatus: number | undefined;
  readonly retryAfterSeconds: number | undefined;
  /** The `provider/model` the failing call was for, when known. */
  modelRef: string | undefined;
  constructor(
    message: string,
    options: OpenClawErrorOptions & { retryable?: boolean; upstreamStatus?: number; retryAfterSeconds?: number } = {},
  ) {
    super(message, { status: 502, type: "upstream_error", ...options });
    this.retryable = options.retryable ?? false;
    this.upstreamStatus = options.upstreamStatus;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** The user interrupted an interactive step (Ctrl-C at a prompt). */
export class CancelledError extends OpenClawError {
  constructor(message = "cancelled", options: OpenClawErrorOptions = {}) {
    super(message, { status: 499, type: "cancelled", exitCode: 130, ...options });
  }
}

export function isOpenClawError(error: unknown): error is OpenClawError {
  return error instanceof OpenClawError;
}

/** Node's system errors (ENOENT, EACCES…) carry a `code`; this reads it without casts at call sites. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error === "object" && error !== null && "code" in error) {
    const code = (error as { code: unknown }).code;
    return typeof code === "string" ? code : undefined;
  }
  return undefined;
}
