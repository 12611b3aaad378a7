/** The `fetch` the GPU verifier uses; injectable so a test or a proxy-aware caller can supply its own. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface BoundedFetchOptions {
  fetch?: FetchLike | undefined;
  timeoutMs: number;
  maxBytes: number;
  signal?: AbortSignal | undefined;
}

export type BoundedResult = { ok: true; status: number; text: string } | { ok: false; reason: string };

/**
 * One call with a deadline and a cap on the answer's size, read incrementally so an endless
 * body is cut at the cap rather than buffered. Never throws: the reason is returned for a verdict.
 */
export async function boundedFetch(url: string, init: RequestInit, options: BoundedFetchOptions): Promise<BoundedResult> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  let response: Response;
  try {
    response = await (options.fetch ?? fetch)(url, { ...init, signal, redirect: "error" });
  } catch (error) {
    return { ok: false, reason: timeout.aborted ? `no answer within ${options.timeoutMs} ms` : `unreachable (${describe(error)})` };
  }
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    const reader = response.body?.getReader();
    for (;;) {
      if (!reader) break;
      const { done, value } = await reader.read();
      if (done) break;
      size += value.length;
      if (size > options.maxBytes) {
        await reader.cancel().catch(() => undefined);
        return { ok: false, reason: `answer larger than ${options.maxBytes} bytes` };
      }
      parts.push(value);
    }
  } catch (error) {
    return { ok: false, reason: timeout.aborted ? `no answer within ${options.timeoutMs} ms` : `answer cut off (${describe(error)})` };
  }
  return { ok: true, status: response.status, text: Buffer.concat(parts).toString("utf8") };
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown } })?.cause;
  if (cause && typeof cause.code === "string") return cause.code;
  return error instanceof Error ? error.message.slice(0, 200) : "unknown error";
}
