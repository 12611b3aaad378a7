import type { Dispatcher } from "undici";

/**
 * One HTTP exchange on undici's dispatch API, without a Readable body in between: the hot
 * path of every upstream call. The sink sees the status, then raw body bytes as they arrive.
 */
export interface ExchangeSink {
  onStart(status: number, headers: Record<string, string | string[] | undefined>, control: ExchangeControl): void;
  onData(chunk: Buffer): void;
  onEnd(): void;
  onError(error: Error): void;
}

export interface ExchangeControl {
  pause(): void;
  resume(): void;
  abort(reason?: Error): void;
}

export interface ExchangeRequest {
  url: URL;
  method: "GET" | "POST";
  headers: Record<string, string>;
  body: string | null;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export function exchange(dispatcher: Dispatcher, request: ExchangeRequest, sink: ExchangeSink): void {
  const { signal } = request;
  let controller: Dispatcher.DispatchController | undefined;
  let settled = false;
  const onAbort = () => controller?.abort(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
  const cleanup = () => {
    settled = true;
    signal?.removeEventListener("abort", onAbort);
  };
  if (signal?.aborted) {
    sink.onError(Object.assign(new Error("aborted"), { name: "AbortError" }));
    return;
  }
  signal?.addEventListener("abort", onAbort, { once: true });
  const control: ExchangeControl = {
    pause: () => controller?.pause(),
    resume: () => controller?.resume(),
    abort: (reason) => controller?.abort(reason ?? new Error("aborted")),
  };
  dispatcher.dispatch(
    {
      origin: request.url.origin,
      path: request.url.pathname + request.url.search,
      method: request.method,
      headers: request.headers,
      body: request.body,
      headersTimeout: request.timeoutMs,
      bodyTimeout: request.timeoutMs,
    },
    {
      onRequestStart(started) {
        controller = started;
        if (signal?.aborted) onAbort();
      },
      onResponseStart(_controller, status, headers) {
        sink.onStart(status, headers as Record<string, string | string[] | undefined>, control);
      },
      onResponseData(_controller, chunk) {
        sink.onData(chunk);
      },
      onResponseEnd() {
        cleanup();
        sink.onEnd();
      },
      onResponseError(_controller, error) {
        if (settled) return;
        cleanup();
        sink.onError(signal?.aborted ? Object.assign(new Error("aborted", { cause: error }), { name: "AbortError" }) : error);
      },
    },
  );
}
