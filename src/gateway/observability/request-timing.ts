import { performance } from "node:perf_hooks";

/**
 * Where one request's time went: waiting for the upstream, or the gateway's own work (the
 * overhead). Upstream time runs from the first attempt's start to the last attempt's end, so
 * retry back-offs and fallbacks count as upstream time (the upstream caused them); a stream's
 * relay, which overlaps the upstream generating, counts as upstream time too. A few numbers on
 * an object made once per request: nothing here allocates or awaits.
 */
export class RequestTiming {
  readonly started = performance.now();
  /** First attempt's start, -1 before any. */
  private upstreamFrom = -1;
  /** Last finished attempt's end, -1 while none has finished. */
  private upstreamTo = -1;
  /** An attempt in flight since then, else -1. */
  private attemptFrom = -1;
  /** When an upstream stream began relaying (its first chunk), else -1: the upstream is busy until the request ends. */
  private streamingFrom = -1;
  /** When the response head was written (set by TimedResponse), else -1. */
  headAt = -1;
  /** The status line sent, 0 before the head. */
  statusCode = 0;

  attemptStarted(now = performance.now()): void {
    if (this.upstreamFrom < 0) this.upstreamFrom = now;
    this.attemptFrom = now;
  }

  attemptEnded(now = performance.now()): void {
    this.attemptFrom = -1;
    this.upstreamTo = now;
  }

  /** A streamed answer started relaying: until the request ends, the gateway relays what the upstream produces. */
  streaming(now = performance.now()): void {
    this.streamingFrom = now;
  }

  /** Milliseconds spent waiting for the upstream up to `at`. */
  upstreamMs(at: number): number {
    if (this.upstreamFrom < 0) return 0;
    const to = this.attemptFrom >= 0 || (this.streamingFrom >= 0 && this.headAt < 0) ? at : Math.min(at, this.upstreamTo);
    return Math.max(0, to - this.upstreamFrom);
  }

  /**
   * The gateway's own time up to the response head (when one was written, else up to `now`):
   * what the client waited for that was not the upstream. Never negative, never above the total.
   */
  overheadMs(now = performance.now()): number {
    const at = this.headAt >= 0 ? this.headAt : now;
    return Math.max(0, at - this.started - this.upstreamMs(at));
  }
}
