import type { Readable } from "node:stream";
import type { ChatChunk } from "../../shared/wire.js";
import { SseDecoder } from "./sse-decoder.js";

/** The event's text as the upstream sent it, kept on each chunk (not serialised) so relays can pass it on unchanged. */
export const RAW_EVENT: unique symbol = Symbol("openclaw.rawEvent");
export type StreamedChunk = ChatChunk & { [RAW_EVENT]?: string };

const HIGH_WATER = 64;

/**
 * SSE body → chat chunks, driven by the body's 'data' events rather than a stream async
 * iterator (the hot path of every streamed answer). Pauses the upstream when the consumer
 * falls behind; `return()` (a consumer that stops early) destroys the upstream body.
 */
export class ChunkStream implements AsyncIterableIterator<StreamedChunk> {
  private readonly decoder = new SseDecoder();
  private readonly queue: StreamedChunk[] = [];
  private head = 0;
  private ended = false;
  private failure: Error | undefined;
  private waiter: { resolve: (result: IteratorResult<StreamedChunk>) => void; reject: (error: Error) => void } | undefined;

  constructor(
    private readonly body: Readable,
    private readonly parse: (data: string) => ChatChunk | "done" | undefined,
    private readonly mapError: (error: unknown) => Error,
  ) {
    body.on("data", (bytes: Buffer) => this.accept(this.decoder.push(bytes)));
    body.once("end", () => {
      this.accept(this.decoder.end());
      this.finish();
    });
    body.once("error", (error) => this.fail(this.mapError(error)));
    body.once("close", () => {
      if (!this.ended && !this.failure) this.fail(this.mapError(new Error("the upstream closed the stream")));
    });
  }

  private accept(events: Array<{ data: string }>): void {
    for (const event of events) {
      if (this.ended || this.failure) return;
      let chunk: ChatChunk | "done" | undefined;
      try {
        chunk = this.parse(event.data);
      } catch (error) {
        this.fail(error as Error);
        return;
      }
      if (chunk === "done") {
        // Let the body run to its end so the connection goes back to the pool.
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
        if (this.queue.length - this.head >= HIGH_WATER) this.body.pause();
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

  private fail(error: Error): void {
    if (this.ended || this.failure) return;
    this.failure = error;
    if (this.waiter) {
      this.waiter.reject(error);
      this.waiter = undefined;
    }
  }

  next(): Promise<IteratorResult<StreamedChunk>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head++] as StreamedChunk;
      if (this.head === this.queue.length) {
        this.queue.length = 0;
        this.head = 0;
        if (this.body.isPaused()) this.body.resume();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<StreamedChunk>> {
    if (!this.ended) {
      this.ended = true;
      this.body.destroy();
    }
    this.queue.length = 0;
    this.head = 0;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
