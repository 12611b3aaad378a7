import { UpstreamError } from "../../shared/errors.js";
import { containsSecret, scrubExact } from "../../shared/scrub.js";
import type { ChatChunk } from "../../shared/wire.js";
import type { ChunkSource } from "../provider.js";
import type { ExchangeControl } from "./exchange.js";
import { SseDecoder, SseEventTooLargeError } from "./sse-decoder.js";

/** The event's text as the upstream sent it, kept on each chunk (not serialised) so relays can pass it on unchanged. */
export const RAW_EVENT: unique symbol = Symbol("openclaw.rawEvent");
export type StreamedChunk = ChatChunk & { [RAW_EVENT]?: string };

/** A chunk iterable that can also hand over what it has already received in one go (the spec's `ChunkSource`). */
export type BatchedChunks = ChunkSource;

/** The raw text of an event, as the spec's `ChunkSource.rawEvent` gives it. */
export const rawEventOf = (chunk: ChatChunk): string | undefined => (chunk as StreamedChunk)[RAW_EVENT];

const HIGH_WATER = 64;
/** How long an upstream may keep its body open after `[DONE]`. */
const DONE_GRACE_MS = 2_000;

export interface ChunkStreamOptions {
  control: ExchangeControl;
  providerId: string;
  parse(data: string): ChatChunk | "done" | undefined;
  mapError(error: unknown): Error;
  /** The request's credentials: an event that echoes one is relayed with it scrubbed. */
  secrets?: readonly string[];
  /** Cap on one SSE line / event (characters). */
  maxEventChars?: number;
  /**
   * Longest wait for the next event (comments and stray bytes do not count, and neither does a
   * wait while paused for the consumer): an upstream that keeps its body open with keep-alive
   * comments or a trickle of bytes, never sending another event, is cut with a 504.
   */
  eventTimeoutMs?: number;
}

/**
 * SSE bytes pushed in → chat chunks pulled out. Pauses the upstream when the consumer falls
 * behind; `return()` (a consumer that stops early) aborts the upstream request. A stream that
 * stops without `[DONE]` or a `finish_reason`, or carries no chunk at all, fails: a cut-off
 * answer must not pass for a complete one.
 */
export class ChunkStream implements AsyncIterableIterator<StreamedChunk> {
  private readonly decoder: SseDecoder;
  private readonly queue: StreamedChunk[] = [];
  private readonly control: ExchangeControl;
  private readonly parse: ChunkStreamOptions["parse"];
  private readonly mapError: ChunkStreamOptions["mapError"];
  private readonly secrets: readonly string[];
  private readonly providerId: string;
  private head = 0;
  private ended = false;
  private paused = false;
  private received = 0;
  private bodyEnded = false;
  private finishSeen = false;
  private failure: Error | undefined;
  /**
   * The post-`[DONE]` grace timer. Cleared as soon as the body ends: left to run, each timer held
   * its whole stream (and through it the client's response) for 2 s: under streamed load the heap
   * carried two seconds' worth of finished streams (119 MB live after GC instead of 15; peak RSS 501 MB).
   */
  private graceTimer: NodeJS.Timeout | undefined;
  /** When the last event arrived (ms); the event timer compares it lazily, one timer per stream. */
  private lastEventAt = 0;
  private eventTimer: NodeJS.Timeout | undefined;
  private readonly eventTimeoutMs: number | undefined;
  private waiter: { resolve: (result: IteratorResult<StreamedChunk>) => void; reject: (error: Error) => void } | undefined;

  constructor(options: ChunkStreamOptions) {
    this.control = options.control;
    this.parse = options.parse;
    this.mapError = options.mapError;
    this.secrets = options.secrets ?? [];
    this.providerId = options.providerId;
    this.decoder = new SseDecoder(options.maxEventChars);
    this.eventTimeoutMs = options.eventTimeoutMs;
    if (this.eventTimeoutMs !== undefined && this.eventTimeoutMs > 0) {
      this.lastEventAt = Date.now();
      this.armEventTimer(this.eventTimeoutMs);
    }
  }

  private armEventTimer(delayMs: number): void {
    this.eventTimer = setTimeout(() => this.checkEventTimeout(), delayMs);
    this.eventTimer.unref();
  }

  /** Fired at most once per `eventTimeoutMs` (re-armed for the rest when events came meanwhile), not reset per event. */
  private checkEventTimeout(): void {
    this.eventTimer = undefined;
    const limit = this.eventTimeoutMs as number;
    if (this.ended || this.failure || this.bodyEnded) return;
    const now = Date.now();
    if (this.paused) this.lastEventAt = now;
    const quiet = now - this.lastEventAt;
    if (quiet < limit) {
      this.armEventTimer(limit - quiet);
      return;
    }
    const error = new UpstreamError(`${this.providerId} sent no stream event for ${limit} ms (gateway.http.upstreamTimeoutMs)`, {
      status: 504,
      type: "timeout_error",
      code: "upstream_timeout",
      retryable: true,
    });
    this.fail(error);
    this.control.abort(error);
  }

  private clearEventTimer(): void {
    if (this.eventTimer) clearTimeout(this.eventTimer);
    this.eventTimer = undefined;
  }

  /** Chunks that did not come as SSE (an upstream that answered with plain JSON). */
  pushChunks(chunks: ChatChunk[]): void {
    if (!chunks.some((chunk) => chunk.choices?.length)) {
      this.fail(this.broken("an answer without choices", "upstream_empty_stream"));
      return;
    }
    for (const chunk of chunks) {
      if (this.waiter) {
        const { resolve } = this.waiter;
        this.waiter = undefined;
        resolve({ value: chunk, done: false });
      } else this.queue.push(chunk);
    }
    this.finish();
  }

  push(bytes: Buffer): void {
    if (this.ended || this.failure) return;
    let events: ReturnType<SseDecoder["push"]>;
    try {
      events = this.decoder.push(bytes);
    } catch (error) {
      this.fail(this.tooLarge(error));
      this.control.abort();
      return;
    }
    this.accept(events);
  }

  /** The upstream body ended. */
  end(): void {
    this.bodyEnded = true;
    this.clearGrace();
    this.clearEventTimer();
    if (this.ended || this.failure) return;
    try {
      this.accept(this.decoder.end());
    } catch (error) {
      this.fail(this.tooLarge(error));
      return;
    }
    if (this.ended || this.failure) return;
    if (this.received === 0) this.fail(this.broken("an empty stream", "upstream_empty_stream"));
    else if (!this.finishSeen) this.fail(this.broken("a stream that stopped before it finished", "upstream_stream_truncated"));
    else this.finish();
  }

  private broken(what: string, code: string): UpstreamError {
    return new UpstreamError(`${this.providerId} sent ${what}`, { status: 502, code, retryable: true });
  }

  private tooLarge(error: unknown): Error {
    if (!(error instanceof SseEventTooLargeError)) return this.mapError(error);
    return new UpstreamError(`${this.providerId} sent a stream event larger than ${error.limit} characters`, {
      status: 502,
      code: "upstream_event_too_large",
      retryable: true,
    });
  }

  private clearGrace(): void {
    if (this.graceTimer) clearTimeout(this.graceTimer);
    this.graceTimer = undefined;
  }

  fail(error: Error): void {
    this.clearGrace();
    this.clearEventTimer();
    if (this.ended || this.failure) return;
    this.failure = error;
    if (this.waiter) {
      this.waiter.reject(error);
      this.waiter = undefined;
    }
  }

  private accept(events: Array<{ data: string }>): void {
    if (events.length > 0 && this.eventTimer) this.lastEventAt = Date.now();
    for (const event of events) {
      if (this.ended || this.failure) return;
      let chunk: ChatChunk | "done" | undefined;
      // Only an event that echoes a credential pays for more than this `includes` check.
      const data = this.secrets.length > 0 && containsSecret(event.data, this.secrets) ? scrubExact(event.data, this.secrets) : event.data;
      try {
        chunk = this.parse(data);
      } catch (error) {
        this.fail(this.mapError(error));
        this.control.abort();
        return;
      }
      if (chunk === "done") {
        if (this.received === 0) {
          this.fail(this.broken("an empty stream", "upstream_empty_stream"));
          return;
        }
        // The body runs to its end on its own, so the connection goes back to the pool; one that
        // stays open after [DONE] (keep-alive comments) would hold its connection and upstream
        // slot for ever, so it is cut after a grace period.
        this.finish();
        if (!this.bodyEnded) {
          this.graceTimer = setTimeout(() => {
            this.graceTimer = undefined;
            this.control.abort();
          }, DONE_GRACE_MS);
          this.graceTimer.unref();
        }
        return;
      }
      if (!chunk) continue;
      // Only chunks with choices make an answer: `{"choices":[]}` and usage alone do not.
      if (chunk.choices?.length) this.received++;
      if (!this.finishSeen && chunk.choices) {
        for (const choice of chunk.choices) if (choice.finish_reason) this.finishSeen = true;
      }
      (chunk as StreamedChunk)[RAW_EVENT] = data;
      if (this.waiter) {
        const { resolve } = this.waiter;
        this.waiter = undefined;
        resolve({ value: chunk, done: false });
      } else {
        this.queue.push(chunk);
        if (!this.paused && this.queue.length - this.head >= HIGH_WATER) {
          this.paused = true;
          this.control.pause();
        }
      }
    }
  }

  private finish(): void {
    if (this.ended) return;
    this.ended = true;
    this.clearEventTimer();
    if (this.waiter && this.head >= this.queue.length) {
      this.waiter.resolve({ value: undefined, done: true });
      this.waiter = undefined;
    }
  }

  next(): Promise<IteratorResult<StreamedChunk>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head++] as StreamedChunk;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
        if (this.paused) {
          this.paused = false;
          this.control.resume();
        }
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Chunks already received, without waiting: lets a relay handle a whole network read at once. */
  rawEvent(chunk: ChatChunk): string | undefined {
    return rawEventOf(chunk);
  }

  takeQueued(): StreamedChunk[] {
    if (this.head >= this.queue.length) return [];
    const taken = this.queue.slice(this.head);
    this.queue.length = 0;
    this.head = 0;
    if (this.paused) {
      this.paused = false;
      this.control.resume();
    }
    return taken;
  }

  return(): Promise<IteratorResult<StreamedChunk>> {
    this.clearEventTimer();
    if (!this.ended && !this.failure) {
      this.ended = true;
      this.control.abort();
    }
    this.queue.length = 0;
    this.head = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
