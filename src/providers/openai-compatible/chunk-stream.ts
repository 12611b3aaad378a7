import type { ChatChunk } from "../../shared/wire.js";
import type { ExchangeControl } from "./exchange.js";
import { SseDecoder } from "./sse-decoder.js";

/** The event's text as the upstream sent it, kept on each chunk (not serialised) so relays can pass it on unchanged. */
export const RAW_EVENT: unique symbol = Symbol("openclaw.rawEvent");
export type StreamedChunk = ChatChunk & { [RAW_EVENT]?: string };

/** A chunk iterable that can also hand over what it has already received in one go. */
export interface BatchedChunks extends AsyncIterable<ChatChunk> {
  takeQueued?(): StreamedChunk[];
}

const HIGH_WATER = 64;

/**
 * SSE bytes pushed in → chat chunks pulled out. Pauses the upstream when the consumer falls
 * behind; `return()` (a consumer that stops early) aborts the upstream request.
 */
export class ChunkStream implements AsyncIterableIterator<StreamedChunk> {
  private readonly decoder = new SseDecoder();
  private readonly queue: StreamedChunk[] = [];
  private head = 0;
  private ended = false;
  private paused = false;
  private failure: Error | undefined;
  private waiter: { resolve: (result: IteratorResult<StreamedChunk>) => void; reject: (error: Error) => void } | undefined;

  constructor(
    private readonly control: ExchangeControl,
    private readonly parse: (data: string) => ChatChunk | "done" | undefined,
    private readonly mapError: (error: unknown) => Error,
  ) {}

  /** Chunks that did not come as SSE (an upstream that answered with plain JSON). */
  pushChunks(chunks: ChatChunk[]): void {
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
    this.accept(this.decoder.push(bytes));
  }

  end(): void {
    if (this.ended || this.failure) return;
    this.accept(this.decoder.end());
    this.finish();
  }

  fail(error: Error): void {
    if (this.ended || this.failure) return;
    this.failure = error;
    if (this.waiter) {
      this.waiter.reject(error);
      this.waiter = undefined;
    }
  }

  private accept(events: Array<{ data: string }>): void {
    for (const event of events) {
      if (this.ended || this.failure) return;
      let chunk: ChatChunk | "done" | undefined;
      try {
        chunk = this.parse(event.data);
      } catch (error) {
        this.fail(this.mapError(error));
        this.control.abort();
        return;
      }
      if (chunk === "done") {
        // The body runs to its end on its own, so the connection goes back to the pool.
        this.finish();
        return;
      }
      if (!chunk) continue;
      (chunk as StreamedChunk)[RAW_EVENT] = event.data;
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
