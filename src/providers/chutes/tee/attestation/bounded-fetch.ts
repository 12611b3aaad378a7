import { scrubErrorText } from "../../../../shared/scrub.js";

/** What every attestation HTTP call shares: the fetch to use, a time limit, and the secrets to keep out of errors. */
export interface HttpOptions {
  fetch?: typeof fetch;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Values that must never appear in an error message (the Chutes credential). */
  secrets?: readonly string[];
  /** Only for requests that carry no credential. */
  followRedirects?: boolean;
}

export interface BoundedResponse {
  status: number;
  headers: Headers;
  body: Buffer;
}

/** Upstream texts quoted in errors are cut to this many characters. */
export const UPSTREAM_TEXT_LIMIT = 200;

/** A network failure, a time-out or an oversized answer: the message names the host, never a credential. */
export class AttestationFetchError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "AttestationFetchError";
  }
}

export function quoteUpstream(text: string, secrets: readonly string[] = []): string {
  const flat = text.replace(/\s+/g, " ").trim();
  const cut = flat.length > UPSTREAM_TEXT_LIMIT ? `${flat.slice(0, UPSTREAM_TEXT_LIMIT)}…` : flat;
  return scrubErrorText(cut, secrets);
}

/** `scheme://host[:port]/path` without query or credentials: what an error may say about a URL. */
export function describeUrl(url: string): string {
  if (!URL.canParse(url)) return "(invalid URL)";
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/**
 * GET (or the given method) with a deadline and a cap on the bytes read: an answer larger than
 * `maxBytes` is abandoned mid-stream, so a hostile or broken server cannot make us buffer it.
 */
export async function fetchBounded(
  url: string,
  options: HttpOptions & { maxBytes: number; headers?: Record<string, string> },
): Promise<BoundedResponse> {
  const doFetch = options.fetch ?? fetch;
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const where = describeUrl(url);
  let response: Response;
  try {
    response = await doFetch(url, { headers: options.headers ?? {}, signal, redirect: options.followRedirects ? "follow" : "error" });
  } catch (error) {
    throw new AttestationFetchError(`${where} unreachable: ${reason(error, timeout, options)}`);
  }
  const declared = Number(response.headers.get("content-length") ?? "NaN");
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new AttestationFetchError(`${where} answered ${declared} bytes, more than the ${options.maxBytes} allowed`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > options.maxBytes) {
        await response.body?.cancel().catch(() => undefined);
        throw new AttestationFetchError(`${where} answered more than the ${options.maxBytes} bytes allowed`);
      }
      chunks.push(Buffer.from(chunk));
    }
  } catch (error) {
    if (error instanceof AttestationFetchError) throw error;
    throw new AttestationFetchError(`${where} broke off its answer: ${reason(error, timeout, options)}`);
  }
  return { status: response.status, headers: response.headers, body: Buffer.concat(chunks, size) };
}

function reason(error: unknown, timeout: AbortSignal, options: HttpOptions): string {
  if (timeout.aborted) return `no answer within ${options.timeoutMs} ms`;
  if (options.signal?.aborted) return "cancelled";
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const text = cause instanceof Error ? `${(cause as { code?: string }).code ?? ""} ${cause.message}`.trim() : String(cause);
  return quoteUpstream(text, options.secrets);
}
