import type { IncomingHttpHeaders } from "node:http";
import { performance } from "node:perf_hooks";
import type { ModelRef } from "../../models/model-ref.js";
import { isOpenClawError } from "../../shared/errors.js";
import type { RequestRecord } from "../../store/usage-ledger.js";
import type { AttemptInfo, AttemptOutcome, AttemptTrace, GatewayObserver, RequestTrace } from "./observer.js";
import { RequestTiming } from "./request-timing.js";

/** Ends an attempt: with nothing on success, with the error on failure; the result when there is one. */
export type AttemptEnd = (outcome: AttemptOutcome) => void;

interface OpenStream {
  info: AttemptInfo;
  started: number;
  span: AttemptTrace | undefined;
}

/**
 * One model request as the observers see it, held by its ledger entry: the timing (shared with
 * the response, which writes the overhead header), the attempts, and the end. Without an
 * observer it only keeps the timing: a few clock reads per request.
 */
export class RequestObservation {
  readonly timing: RequestTiming;
  private readonly trace: RequestTrace | undefined;
  private stream: OpenStream | undefined;
  private failureStatus = 0;

  constructor(
    private readonly observer: GatewayObserver | undefined,
    request: { headers: IncomingHttpHeaders; timing?: RequestTiming },
    endpoint: string,
    requestId: string,
  ) {
    this.timing = request.timing ?? new RequestTiming();
    this.trace = observer?.startTrace?.(request.headers, endpoint, requestId);
  }

  /** Called as an upstream attempt starts; the returned function when it ends. */
  attempt(info: AttemptInfo): AttemptEnd {
    const started = performance.now();
    this.timing.attemptStarted(started);
    const span = this.trace?.attempt(info);
    return (outcome) => {
      const now = performance.now();
      this.timing.attemptEnded(now);
      if (outcome.error === undefined && info.stream) {
        // The stream is open: its operation, and its span, last until the request ends.
        this.timing.streaming(now);
        this.stream = { info, started, span };
        this.observer?.firstChunk(info, now - started);
        this.observer?.streamOpened();
        return;
      }
      this.observer?.attemptEnded(info, now - started, outcome.error);
      span?.end(outcome);
    };
  }

  /** The error a request failed with, for the status its metrics carry (the head is written after). */
  failed(error: unknown): void {
    this.failureStatus = isOpenClawError(error) ? error.status : 500;
  }

  /** The request is recorded: once, with its ledger row. */
  ended(row: RequestRecord, ref: ModelRef | null, output?: unknown): void {
    const now = performance.now();
    const stream = this.stream;
    if (stream) {
      this.stream = undefined;
      this.observer?.streamClosed();
      // The status, not the message, labels the metric: label values stay bounded.
      this.observer?.attemptEnded(stream.info, now - stream.started, row.status === "ok" ? undefined : row.status);
      stream.span?.end(row.status === "ok" ? { result: { usage: usageOf(row), output } } : { error: row.error ?? row.status });
    }
    if (!this.observer) return;
    const status =
      row.status === "aborted"
        ? 499
        : row.status === "error"
          ? this.failureStatus || this.timing.statusCode || 500
          : this.timing.statusCode || 200;
    const end = { row, ref, status, overheadMs: this.timing.overheadMs(now), durationMs: now - this.timing.started, output };
    this.observer.requestEnded(end);
    this.trace?.end(end);
  }
}

/** The row's usage in the wire's names, for a stream's span. */
function usageOf(row: RequestRecord) {
  return {
    prompt_tokens: row.promptTokens ?? undefined,
    completion_tokens: row.completionTokens ?? undefined,
    ...(row.cachedTokens === null ? {} : { prompt_tokens_details: { cached_tokens: row.cachedTokens } }),
  };
}
