import type { ChunkSource } from "../providers/provider.js";

/**
 * An attempt's own signal: it follows the client's, and the attempt (its first-byte budget) can
 * abort it alone. Not `AbortSignal.any`: on Node 20 every composite of a long-lived signal leaves a
 * WeakRef in that signal for its whole life, and the client's signal lives as long as its
 * keep-alive connection (one per connection), so each streamed request left ~65 bytes behind for
 * as long as its connection stayed open, and the composites themselves waited for a major GC.
 * `release()` removes the link; call it once the attempt's upstream call is over.
 */
export function linkedSignal(signal: AbortSignal | undefined): { controller: AbortController; release: () => void } {
  const controller = new AbortController();
  if (!signal) return { controller, release: () => undefined };
  if (signal.aborted) {
    controller.abort(signal.reason);
    return { controller, release: () => undefined };
  }
  const forward = () => controller.abort(signal.reason);
  signal.addEventListener("abort", forward, { once: true });
  return { controller, release: () => signal.removeEventListener("abort", forward) };
}

/**
 * The same chunks, calling `release` once the consumer is done with them: the end of the stream,
 * its failure, or `return()` (a consumer that stops early). Until then a client that goes away
 * still aborts the upstream request through the linked signal.
 */
export function releaseAtEnd(source: ChunkSource, release: () => void): ChunkSource {
  let released = false;
  const done = () => {
    if (released) return;
    released = true;
    release();
  };
  const iterator = source[Symbol.asyncIterator]();
  const wrapped: ChunkSource = {
    [Symbol.asyncIterator]: () => ({
      next: () =>
        iterator.next().then(
          (result) => {
            if (result.done) done();
            return result;
          },
          (error: unknown) => {
            done();
            throw error;
          },
        ),
      return: (value?: unknown) => {
        done();
        return iterator.return ? iterator.return(value) : Promise.resolve({ value: undefined, done: true as const });
      },
    }),
  };
  if (source.takeQueued) wrapped.takeQueued = source.takeQueued.bind(source);
  if (source.rawEvent) wrapped.rawEvent = source.rawEvent.bind(source);
  return wrapped;
}
