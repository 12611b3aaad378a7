import type { Dispatcher } from "undici";
import type { TransportControl, TransportRequest, TransportSink } from "../provider.js";

/**
 * One HTTP exchange on undici's dispatch API, without a Readable body in between: the hot
 * path of every upstream call. The sink sees the status, then raw body bytes as they arrive.
 * Its shapes are the provider spec's transport shapes: a transport hook sends the same way.
 */
export type ExchangeSink = TransportSink;
export type ExchangeControl = TransportControl;
export type ExchangeRequest = TransportRequest;

export function exchange(dispatcher: Dispatcher, request: ExchangeRequest, sink: ExchangeSink): void {
  const { signal } = request;
  let controller: Dispatcher.DispatchController | undefined;
  let settled = false;
  const onAbort = () => controller?.abort(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
  const cleanup = () => {
    settled = true;
    signal?.removeEventListener("abort", onAbort);
    request.onSettled?.();
  };
  /**
   * A sink that throws (a parse, a concat of a huge body) must not vanish inside undici's
   * callbacks, leaving the caller waiting forever: the exchange fails with that error and
   * the upstream request is aborted.
   */
  const failFromSink = (error: unknown) => {
    const reason = error instanceof Error ? error : new Error(String(error));
    if (!settled) {
      cleanup();
      controller?.abort(reason);
    }
    sink.onError(reason);
  };
  if (signal?.aborted) {
    cleanup();
    sink.onError(Object.assign(new Error("aborted"), { name: "AbortError" }));
    return;
  }
  signal?.addEventListener("abort", onAbort, { once: true });
  const control: ExchangeControl = {
    pause: () => controller?.pause(),
    resume: () => controller?.resume(),
    abort: (reason) => controller?.abort(reason ?? new Error("aborted")),
  };
  try {
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
          if (settled) return;
          try {
            sink.onStart(status, headers as Record<string, string | string[] | undefined>, control);
          } catch (error) {
            failFromSink(error);
          }
        },
        onResponseData(_controller, chunk) {
          if (settled) return;
          try {
            sink.onData(chunk);
          } catch (error) {
            failFromSink(error);
          }
        },
        onResponseEnd() {
          if (settled) return;
          cleanup();
          try {
            sink.onEnd();
          } catch (error) {
            sink.onError(error instanceof Error ? error : new Error(String(error)));
          }
        },
        onResponseError(_controller, error) {
          if (settled) return;
          cleanup();
          sink.onError(signal?.aborted ? Object.assign(new Error("aborted", { cause: error }), { name: "AbortError" }) : error);
        },
      },
    );
  } catch (error) {
    // An invalid request (bad header value, closed dispatcher) throws here rather than calling back.
    failFromSink(error);
  }
}
